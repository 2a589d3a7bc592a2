#pragma once

#include <string>
#include <string_view>

namespace chat {

// Makes text from the network safe to write to a terminal: control
// characters (ESC, CR, BEL, C1 ...) become visible caret or <U+XXXX> forms,
// bidirectional overrides (which can make text display in another order than
// it reads) become <U+XXXX>, and invalid UTF-8 bytes become U+FFFD. Printable
// text, including any script and emoji, passes unchanged.
std::string SanitizeForTerminal(std::string_view text);

}  // namespace chat
