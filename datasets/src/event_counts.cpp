// EventCounts (see event_counts.h).
#include "event_counts.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace opsbench {
namespace {

// Splits "E12" / "12" into ("E", 12); false when the key is not a letter prefix plus digits.
bool split_numbered(const std::string& key, std::string& prefix, unsigned long long& number) {
  std::size_t i = 0;
  while (i < key.size() && std::isalpha(static_cast<unsigned char>(key[i]))) ++i;
  if (i == key.size() || key.size() - i > 18) return false;
  for (std::size_t j = i; j < key.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(key[j]))) return false;
  }
  prefix = key.substr(0, i);
  number = std::strtoull(key.c_str() + i, nullptr, 10);
  return true;
}

}  // namespace

bool event_key_less(const std::string& a, const std::string& b) {
  std::string pa, pb;
  unsigned long long na = 0, nb = 0;
  const bool a_num = split_numbered(a, pa, na);
  const bool b_num = split_numbered(b, pb, nb);
  if (a_num != b_num) return a_num;
  if (!a_num) return a < b;
  if (pa != pb) return pa < pb;
  if (na != nb) return na < nb;
  return a < b;  // "E07" vs "E7": any fixed order
}

int EventCounts::intern(const std::string& key) {
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  const int id = static_cast<int>(keys_.size());
  ids_.emplace(key, id);
  keys_.push_back(key);
  return id;
}

void EventCounts::write_columns(Table& table, const std::vector<std::size_t>& rows, const std::string& prefix) const {
  std::vector<std::vector<double>> counts(keys_.size(), std::vector<double>(rows.size(), 0.0));
  std::vector<bool> seen(keys_.size(), false);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (int id : rows_[rows[r]]) {
      counts[static_cast<std::size_t>(id)][r] += 1.0;
      seen[static_cast<std::size_t>(id)] = true;
    }
  }
  std::vector<int> order;
  for (std::size_t k = 0; k < keys_.size(); ++k) {
    if (seen[k]) order.push_back(static_cast<int>(k));
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return event_key_less(keys_[static_cast<std::size_t>(a)], keys_[static_cast<std::size_t>(b)]);
  });
  for (int k : order) {
    table.add_column(Column::numeric(prefix + keys_[static_cast<std::size_t>(k)],
                                     std::move(counts[static_cast<std::size_t>(k)])));
  }
}

}  // namespace opsbench
