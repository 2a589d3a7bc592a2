#pragma once

namespace chat {

// Makes the C library read and write UTF-8, whatever the environment says.
// The protocol carries UTF-8, and libedit decodes typed bytes through the C
// library's LC_CTYPE: in the "C" locale it drops every non-ASCII byte.
// Takes the environment's locale when it is a UTF-8 one; otherwise keeps its
// other categories and sets LC_CTYPE to C.UTF-8 (built into glibc). Call
// once, first thing in main. Returns false when no UTF-8 LC_CTYPE exists.
bool UseUtf8Locale();

}  // namespace chat
