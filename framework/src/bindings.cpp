#include "evstore/detail/bindings.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/fmt/fmt.h>

namespace evstore::detail {

template <typename T>
std::string bindings::add(std::deque<T>& values, T value, soci::indicator indicator) {
  values.push_back(std::move(value));
  indicators_.push_back(indicator);
  auto text = placeholder(order_.size());
  binding::kind type = binding::kind::text;
  if constexpr (std::is_same_v<T, long long>) {
    type = binding::kind::integer;
  } else if constexpr (std::is_same_v<T, double>) {
    type = binding::kind::real;
  }
  order_.push_back({type, values.size() - 1, text.substr(1)});
  return text;
}

std::string bindings::placeholder(std::size_t index) {
  return ":p" + std::to_string(index);
}

std::string bindings::text(std::string value) {
  return add(texts_, std::move(value), soci::i_ok);
}

std::string bindings::optional_text(std::optional<std::string> value) {
  return add(texts_, value.value_or(std::string()), value ? soci::i_ok : soci::i_null);
}

std::string bindings::integer(long long value) {
  return add(integers_, value, soci::i_ok);
}

std::string bindings::optional_integer(std::optional<long long> value) {
  return add(integers_, value.value_or(0), value ? soci::i_ok : soci::i_null);
}

std::string bindings::real(double value) {
  return add(reals_, value, soci::i_ok);
}

std::string bindings::optional_real(std::optional<double> value) {
  return add(reals_, value.value_or(0.0), value ? soci::i_ok : soci::i_null);
}

std::string bindings::describe(bool values) const {
  if (!values) {
    return fmt::format("{} parameter(s), values not logged", order_.size());
  }
  std::string text;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const auto& b = order_[i];
    text += (i == 0 ? "" : ", ") + b.name + "=";
    if (indicators_[i] == soci::i_null) {
      text += "NULL";
    } else if (b.type == binding::kind::text) {
      text += "'" + texts_[b.index] + "'";
    } else if (b.type == binding::kind::integer) {
      text += std::to_string(integers_[b.index]);
    } else {
      text += fmt::format("{}", reals_[b.index]);
    }
  }
  return text;
}

void bindings::append_signature(std::string& out) const {
  for (const auto& b : order_) {
    out += b.type == binding::kind::text ? 't' : b.type == binding::kind::integer ? 'i' : 'r';
  }
}

void bindings::assign(const bindings& other) {
  std::copy(other.texts_.begin(), other.texts_.end(), texts_.begin());
  std::copy(other.integers_.begin(), other.integers_.end(), integers_.begin());
  std::copy(other.reals_.begin(), other.reals_.end(), reals_.begin());
  std::copy(other.indicators_.begin(), other.indicators_.end(), indicators_.begin());
}

std::vector<native_value> bindings::native_values() const {
  std::vector<native_value> values(order_.size());
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const auto& b = order_[i];
    auto& value = values[i];
    value.null = indicators_[i] == soci::i_null;
    switch (b.type) {
      case binding::kind::text:
        value.type = native_value::kind::text;
        value.text = texts_[b.index];
        break;
      case binding::kind::integer:
        value.type = native_value::kind::integer;
        value.integer = integers_[b.index];
        break;
      case binding::kind::real:
        value.type = native_value::kind::real;
        value.real = reals_[b.index];
        break;
    }
  }
  return values;
}

void bindings::bind_to(soci::statement& statement) {
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const auto& b = order_[i];
    auto& indicator = indicators_[i];
    switch (b.type) {
      case binding::kind::text:
        statement.exchange(soci::use(texts_[b.index], indicator, b.name));
        break;
      case binding::kind::integer:
        statement.exchange(soci::use(integers_[b.index], indicator, b.name));
        break;
      case binding::kind::real:
        statement.exchange(soci::use(reals_[b.index], indicator, b.name));
        break;
    }
  }
}

}  // namespace evstore::detail
