// latent/core/names.hpp - the names of enum values, one table per enum.
//
// Every enum the API and the CLI name by text (Metric, Reduction, WhiteningMethod,
// ...) keeps one table of {name, value} pairs next to its parse and to_string
// functions, and both read that table: the names a parser accepts, the names it
// lists when it refuses one, and the names to_string prints cannot disagree.
//
//   constexpr NamedValue<Metric> kMetricNames[] = {{"cosine", Metric::cosine}, {"ip", Metric::ip}};
//   Metric parse_metric(std::string_view text, std::string_view argument) {
//     return parse_name(kMetricNames, text, "parse_metric", argument, "metric");
//   }
//
// Names are matched exactly (case-sensitive, no trimming).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "latent/core/errors.hpp"

namespace latent {

/// One entry of a name table: the text used by the API, the CLI and model files,
/// and the enum value it stands for.
template <class E>
struct NamedValue {
  std::string_view name;
  E value;
};

/// The names of `table` in table order, separated by ", " ("cosine, ip, l2").
template <class E, std::size_t N>
std::string name_list(const NamedValue<E> (&table)[N]) {
  std::string list;
  for (std::size_t i = 0; i < N; ++i) list.append(i == 0 ? "" : ", ").append(table[i].name);
  return list;
}

/// The value named `text` in `table`. Otherwise throws `Exception` (InvalidArgument
/// unless given) reading
///   "latent::<function>: <argument>: unknown <what> '<text>' (expected one of: <names>)"
/// (without "<argument>: " when `argument` is empty).
template <class Exception = InvalidArgument, class E, std::size_t N>
E parse_name(const NamedValue<E> (&table)[N], std::string_view text, std::string_view function,
             std::string_view argument, std::string_view what) {
  for (const NamedValue<E>& entry : table) {
    if (entry.name == text) return entry.value;
  }
  raise<Exception>(function, argument, "unknown " + std::string(what) + " '" + std::string(text) + "'",
                   "expected one of: " + name_list(table));
}

/// The name of `value` in `table` (a view of the table's literal, so `.data()` is
/// null-terminated); "unknown" for a value the table does not hold.
template <class E, std::size_t N>
constexpr std::string_view name_of(const NamedValue<E> (&table)[N], E value) {
  for (const NamedValue<E>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "unknown";
}

}  // namespace latent
