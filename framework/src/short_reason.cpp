#include "short_reason.hpp"

#include "evstore/redact.hpp"

namespace evstore::detail {

namespace {

// A reason is one line, short enough for a probe's log and a dashboard.
constexpr std::size_t longest_reason = 300;

std::string replace_all(std::string text, std::string_view what, std::string_view with) {
  if (what.empty()) {
    return text;
  }
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
  return text;
}

}  // namespace

std::string short_reason(std::string message, const database_url& url, std::string_view name) {
  auto text = replace_all(std::move(message), url.text_with_password(), name);
  text = replace_all(std::move(text), url.redacted(), name);
  text = redact(std::move(text), url.password);
  std::string line;
  for (const char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (!space || (!line.empty() && line.back() != ' ')) {
      line += space ? ' ' : c;
    }
  }
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  if (line.size() > longest_reason) {
    line.resize(longest_reason - 3);
    line += "...";
  }
  return line;
}

}  // namespace evstore::detail
