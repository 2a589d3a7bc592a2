// Placeholder: the hub concurrency test is being written (issue 11).
#include <gtest/gtest.h>
