#include "client/utf8_locale.h"

#include <langinfo.h>

#include <clocale>
#include <cstring>
#include <initializer_list>

namespace chat {
namespace {

bool CtypeIsUtf8() {
  const char* codeset = nl_langinfo(CODESET);
  return codeset && (std::strcmp(codeset, "UTF-8") == 0 || std::strcmp(codeset, "utf8") == 0);
}

}  // namespace

bool UseUtf8Locale() {
  // An unknown locale name (LANG=xx_YY.UTF-8 not generated) fails as a whole;
  // the C locale is what is left then.
  if (!std::setlocale(LC_ALL, "")) std::setlocale(LC_ALL, "C");
  if (CtypeIsUtf8()) return true;
  for (const char* name : {"C.UTF-8", "C.utf8", "en_US.UTF-8"}) {
    if (std::setlocale(LC_CTYPE, name) && CtypeIsUtf8()) return true;
  }
  return false;
}

}  // namespace chat
