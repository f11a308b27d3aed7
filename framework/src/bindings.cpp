#include "evstore/detail/bindings.hpp"

#include <utility>

#include <spdlog/fmt/fmt.h>

namespace evstore::detail {

std::string bindings::add(binding::kind type, bool null) {
  if (values_.empty()) {
    values_.reserve(typical_count);
  }
  auto text = placeholder(values_.size());
  auto& added = values_.emplace_back();
  added.type = type;
  added.indicator = null ? soci::i_null : soci::i_ok;
  return text;
}

std::string bindings::placeholder(std::size_t index) {
  return ":p" + std::to_string(index);
}

std::string bindings::text(std::string value) {
  auto name = add(binding::kind::text, false);
  values_.back().text = std::move(value);
  return name;
}

std::string bindings::optional_text(std::optional<std::string> value) {
  auto name = add(binding::kind::text, !value);
  values_.back().text = std::move(value).value_or(std::string());
  return name;
}

std::string bindings::integer(long long value) {
  auto name = add(binding::kind::integer, false);
  values_.back().integer = value;
  return name;
}

std::string bindings::optional_integer(std::optional<long long> value) {
  auto name = add(binding::kind::integer, !value);
  values_.back().integer = value.value_or(0);
  return name;
}

std::string bindings::real(double value) {
  auto name = add(binding::kind::real, false);
  values_.back().real = value;
  return name;
}

std::string bindings::optional_real(std::optional<double> value) {
  auto name = add(binding::kind::real, !value);
  values_.back().real = value.value_or(0.0);
  return name;
}

std::string bindings::describe(bool values) const {
  if (!values) {
    return fmt::format("{} parameter(s), values not logged", values_.size());
  }
  std::string text;
  for (std::size_t i = 0; i < values_.size(); ++i) {
    const auto& b = values_[i];
    text += (i == 0 ? "" : ", ") + placeholder(i).substr(1) + "=";
    if (b.indicator == soci::i_null) {
      text += "NULL";
    } else if (b.type == binding::kind::text) {
      text += "'" + b.text + "'";
    } else if (b.type == binding::kind::integer) {
      text += std::to_string(b.integer);
    } else {
      text += fmt::format("{}", b.real);
    }
  }
  return text;
}

void bindings::append_signature(std::string& out) const {
  for (const auto& b : values_) {
    out += b.type == binding::kind::text ? 't' : b.type == binding::kind::integer ? 'i' : 'r';
  }
}

void bindings::assign(const bindings& other) {
  for (std::size_t i = 0; i < values_.size(); ++i) {
    auto& to = values_[i];
    const auto& from = other.values_[i];
    to.indicator = from.indicator;
    to.text = from.text;
    to.integer = from.integer;
    to.real = from.real;
  }
}

std::vector<native_value> bindings::native_values() const {
  std::vector<native_value> values(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) {
    const auto& b = values_[i];
    auto& value = values[i];
    value.null = b.indicator == soci::i_null;
    switch (b.type) {
      case binding::kind::text:
        value.type = native_value::kind::text;
        value.text = b.text;
        break;
      case binding::kind::integer:
        value.type = native_value::kind::integer;
        value.integer = b.integer;
        break;
      case binding::kind::real:
        value.type = native_value::kind::real;
        value.real = b.real;
        break;
    }
  }
  return values;
}

void bindings::bind_to(soci::statement& statement) {
  for (std::size_t i = 0; i < values_.size(); ++i) {
    auto& b = values_[i];
    // SOCI keeps a copy of the name.
    const auto name = placeholder(i).substr(1);
    switch (b.type) {
      case binding::kind::text:
        statement.exchange(soci::use(b.text, b.indicator, name));
        break;
      case binding::kind::integer:
        statement.exchange(soci::use(b.integer, b.indicator, name));
        break;
      case binding::kind::real:
        statement.exchange(soci::use(b.real, b.indicator, name));
        break;
    }
  }
}

}  // namespace evstore::detail
