// Placeholder: tests of the documented promises are being written (issue 11).
#include <gtest/gtest.h>
