#include "server/ops/config_file.h"

#include <toml++/toml.h>

#include <cstdio>

namespace chat {
namespace {

std::string Where(const std::string& path, const toml::source_region& region) {
  return path + ":" + std::to_string(region.begin.line);
}

// A TOML value as the command line would spell it, or nullopt for a value
// no option takes (a table, an array, a date).
std::optional<std::string> AsOptionText(const toml::node& node) {
  if (const auto* value = node.as_string()) return value->get();
  if (const auto* value = node.as_integer()) return std::to_string(value->get());
  if (const auto* value = node.as_boolean()) return value->get() ? "true" : "false";
  if (const auto* value = node.as_floating_point()) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value->get());
    return text;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ApplyConfigFile(const std::string& path, ServerOptions& options) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    // A file that cannot be opened comes here too, with line 0.
    const auto& begin = error.source().begin;
    if (begin.line == 0) return "--config " + path + ": " + std::string(error.description());
    return path + ":" + std::to_string(begin.line) + ": " + std::string(error.description());
  }
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    const std::string where = Where(path, key.source());
    const OptionKind kind = ServerOptionKind(name);
    if (kind == OptionKind::kNone) {
      return where + ": unknown option '" + name + "'";
    }
    const std::optional<std::string> text = AsOptionText(node);
    if (!text || (kind == OptionKind::kSwitch && !node.is_boolean())) {
      return where + ": " + name + " must be " +
             (kind == OptionKind::kSwitch ? "true or false" : "a number or a string");
    }
    if (auto problem = SetServerOption(options, name, *text)) {
      return where + ": " + name + " " + *problem;
    }
  }
  return std::nullopt;
}

}  // namespace chat
