"""Placeholder: being written (issue 11)."""
import unittest

if __name__ == "__main__":
    unittest.main()
