// WordPiece tokenizer (see wordpiece.h). Torch-free. Text is handled as UTF-32 code points (what
// Python's str indexes, so max_input_chars_per_word counts the same thing); ICU supplies the
// Unicode categories, case mapping and normalisation.
#include "opsbench/models/wordpiece.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

#include "opsbench/core/error.h"

namespace opsbench::models {
namespace {

// Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
std::u32string decode_utf8(std::string_view text, const std::string& what) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    std::size_t len = 0;
    char32_t c = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) len = 2, c = b0 & 0x1F, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0) len = 3, c = b0 & 0x0F, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0) len = 4, c = b0 & 0x07, min = 0x10000;
    bool ok = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      ok = (b & 0xC0) == 0x80;
      c = (c << 6) | (b & 0x3F);
    }
    if (!ok || c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
      throw DataError(what + ": invalid UTF-8 at byte offset " + std::to_string(i));
    }
    out.push_back(c);
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string to_utf8(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t c : text) append_utf8(out, c);
  return out;
}

int category(char32_t c) { return u_charType(static_cast<UChar32>(c)); }

// BertTokenizer's _is_whitespace.
bool is_whitespace(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  return c >= 0x80 && category(c) == U_SPACE_SEPARATOR;
}

// BertTokenizer's _is_control: Cc and Cf, except the whitespace controls.
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  if (c >= 0x20 && c < 0x7F) return false;
  const int cat = category(c);
  return cat == U_CONTROL_CHAR || cat == U_FORMAT_CHAR;
}

// BertTokenizer's _is_punctuation: all non-alphanumeric ASCII, and Unicode P*.
bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  if (c < 0x80) return false;
  switch (category(c)) {
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

// BertTokenizer's _is_chinese_char: the CJK Unified Ideographs blocks (not kana or hangul).
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Python's str.split() also splits on these (bidi class B/WS) though BERT does not count them
// as whitespace and does not remove them.
bool is_split_space(char32_t c) { return c == ' ' || c == 0x2028 || c == 0x2029; }

bool all_ascii(const std::u32string& s) {
  return std::all_of(s.begin(), s.end(), [](char32_t c) { return c < 0x80; });
}

icu::UnicodeString to_icu(const std::u32string& s) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(s.data()), static_cast<int32_t>(s.size()));
}

std::u32string from_icu(const icu::UnicodeString& s) {
  std::u32string out;
  for (int32_t i = 0; i < s.length(); i = s.moveIndex32(i, 1)) out.push_back(static_cast<char32_t>(s.char32At(i)));
  return out;
}

std::u32string normalize(const std::u32string& s, bool compose) {
  if (all_ascii(s)) return s;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = compose ? icu::Normalizer2::getNFCInstance(status) : icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU normaliser unavailable: ") + u_errorName(status));
  const icu::UnicodeString result = n->normalize(to_icu(s), status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU normalisation failed: ") + u_errorName(status));
  return from_icu(result);
}

// Python's str.lower() applied to one character: the full mapping, which may give several.
void append_lower(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  UChar src[2], dst[8];
  int32_t src_len = 0;
  U16_APPEND_UNSAFE(src, src_len, static_cast<UChar32>(c));
  UErrorCode status = U_ZERO_ERROR;
  const int32_t n = u_strToLower(dst, 8, src, src_len, "", &status);
  if (U_FAILURE(status)) {
    out.push_back(c);
    return;
  }
  for (int32_t i = 0; i < n;) {
    UChar32 d;
    U16_NEXT(dst, i, n, d);
    out.push_back(static_cast<char32_t>(d));
  }
}

// BasicTokenizer.tokenize for one stretch of text without special tokens.
std::vector<std::u32string> basic_tokenize(const std::u32string& text, const WordPieceOptions& options) {
  std::u32string lowered;
  const std::u32string* source = &text;
  if (options.lower_case) {
    lowered.reserve(text.size());
    for (const char32_t c : text) append_lower(lowered, c);
    source = &lowered;
  }
  std::u32string cleaned;
  cleaned.reserve(source->size());
  for (const char32_t c : *source) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) {
      cleaned.push_back(' ');
    } else if (options.tokenize_chinese_chars && is_cjk(c)) {
      cleaned.push_back(' ');
      cleaned.push_back(c);
      cleaned.push_back(' ');
    } else {
      cleaned.push_back(c);
    }
  }
  cleaned = normalize(cleaned, /*compose=*/true);

  std::vector<std::u32string> words;
  std::size_t i = 0;
  while (i < cleaned.size()) {
    if (is_split_space(cleaned[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < cleaned.size() && !is_split_space(cleaned[j])) ++j;
    std::u32string word = cleaned.substr(i, j - i);
    i = j;
    if (options.lower_case && options.strip_accents && !all_ascii(word)) {
      std::u32string stripped;
      for (const char32_t c : normalize(word, /*compose=*/false)) {
        if (category(c) != U_NON_SPACING_MARK) stripped.push_back(c);
      }
      word = std::move(stripped);
    }
    std::u32string current;
    for (const char32_t c : word) {
      if (is_punctuation(c)) {
        if (!current.empty()) words.push_back(std::move(current));
        current.clear();
        words.emplace_back(1, c);
      } else {
        current.push_back(c);
      }
    }
    if (!current.empty()) words.push_back(std::move(current));
  }
  return words;
}

std::uint64_t fnv1a(const std::vector<std::string>& vocab) {
  std::uint64_t h = 1469598103934665603ull;
  for (const std::string& token : vocab) {
    for (const char c : token) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h = (h ^ '\n') * 1099511628211ull;
  }
  return h;
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  ids_.reserve(vocab_.size());
  for (std::size_t i = 0; i < vocab_.size(); ++i) {
    if (vocab_[i].empty()) throw DataError("vocabulary: empty token at id " + std::to_string(i));
    const auto [it, inserted] = ids_.emplace(vocab_[i], static_cast<std::int64_t>(i));
    if (!inserted) {
      throw DataError("vocabulary: token '" + vocab_[i] + "' at ids " + std::to_string(it->second) + " and " +
                      std::to_string(i));
    }
  }
  const auto require = [&](const std::string& token, const char* role) {
    const std::int64_t id = token_id(token);
    if (id < 0) throw DataError(std::string("vocabulary: no ") + role + " token '" + token + "'");
    return id;
  };
  unk_id_ = require(options_.unk_token, "unknown");
  cls_id_ = require(options_.cls_token, "CLS");
  sep_id_ = require(options_.sep_token, "SEP");
  pad_id_ = require(options_.pad_token, "padding");
  mask_id_ = require(options_.mask_token, "mask");
}

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path, WordPieceOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, 0, 0, "cannot open the vocabulary");
  std::vector<std::string> vocab;
  std::unordered_map<std::string, std::int64_t> first_line;
  std::string line;
  while (std::getline(in, line)) {
    const auto n = static_cast<std::int64_t>(vocab.size()) + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw DataError(path, n, 0, "empty token (id " + std::to_string(n - 1) + ")");
    try {
      decode_utf8(line, "token");
    } catch (const DataError& e) {
      throw DataError(path, n, 0, e.detail());
    }
    const auto [it, inserted] = first_line.emplace(line, n);
    if (!inserted) {
      throw DataError(path, n, 0, "token '" + line + "' repeats line " + std::to_string(it->second));
    }
    vocab.push_back(line);
  }
  if (in.bad()) throw DataError(path, 0, 0, "cannot read the vocabulary");
  try {
    return WordPieceTokenizer(std::move(vocab), std::move(options));
  } catch (const DataError& e) {
    throw DataError(path, 0, 0, e.detail());
  }
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  const std::u32string all = decode_utf8(text, "text");
  std::vector<std::string> pieces;

  const auto wordpiece = [&](const std::u32string& word) {
    if (word.size() > options_.max_input_chars_per_word) {
      pieces.push_back(options_.unk_token);
      return;
    }
    // Byte offset of each code point, so candidate pieces are substrings of one UTF-8 string.
    const std::string utf8 = to_utf8(word);
    std::vector<std::size_t> offset(word.size() + 1, 0);
    for (std::size_t k = 0; k < word.size(); ++k) {
      const char32_t c = word[k];
      offset[k + 1] = offset[k] + (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4);
    }
    const std::size_t first = pieces.size();
    std::string candidate;
    std::size_t start = 0;
    while (start < word.size()) {
      std::size_t end = word.size();
      bool found = false;
      for (; end > start; --end) {
        candidate.assign(start > 0 ? "##" : "");
        candidate.append(utf8, offset[start], offset[end] - offset[start]);
        if (ids_.count(candidate)) {
          found = true;
          break;
        }
      }
      if (!found) {  // no complete split: the whole word is unknown
        pieces.resize(first);
        pieces.push_back(options_.unk_token);
        return;
      }
      pieces.push_back(candidate);
      start = end;
    }
  };
  const auto run = [&](std::size_t begin, std::size_t end) {
    if (begin >= end) return;
    for (const std::u32string& word : basic_tokenize(all.substr(begin, end - begin), options_)) wordpiece(word);
  };

  if (options_.split_special_tokens) {
    run(0, all.size());
    return pieces;
  }
  // Keep special tokens written in the text whole: leftmost match, longest first on ties.
  std::vector<std::u32string> specials;
  for (const std::string* s : {&options_.cls_token, &options_.sep_token, &options_.unk_token, &options_.pad_token,
                               &options_.mask_token}) {
    specials.push_back(decode_utf8(*s, "special token"));
  }
  std::sort(specials.begin(), specials.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  std::size_t segment = 0, i = 0;
  while (i < all.size()) {
    const std::u32string* match = nullptr;
    for (const auto& s : specials) {
      if (all.compare(i, s.size(), s) == 0) {
        match = &s;
        break;
      }
    }
    if (!match) {
      ++i;
      continue;
    }
    run(segment, i);
    pieces.push_back(to_utf8(*match));
    i += match->size();
    segment = i;
  }
  run(segment, all.size());
  return pieces;
}

std::vector<std::int64_t> WordPieceTokenizer::to_ids(const std::vector<std::string>& pieces) const {
  std::vector<std::int64_t> ids;
  ids.reserve(pieces.size());
  for (const std::string& p : pieces) {
    const auto it = ids_.find(p);
    ids.push_back(it == ids_.end() ? unk_id_ : it->second);
  }
  return ids;
}

Encoding WordPieceTokenizer::encode(std::string_view text, std::size_t max_length, Padding padding) const {
  return encode_batch({std::string(text)}, max_length, padding);
}

Encoding WordPieceTokenizer::encode_batch(const std::vector<std::string>& texts, std::size_t max_length,
                                          Padding padding) const {
  if (max_length < 2) throw ConfigError("max_length must be >= 2 ([CLS] and [SEP]); got " + std::to_string(max_length));
  std::vector<std::vector<std::int64_t>> rows;
  rows.reserve(texts.size());
  Encoding enc;
  std::size_t longest = 0;
  for (const std::string& text : texts) {
    std::vector<std::int64_t> ids = to_ids(tokenize(text));
    if (ids.size() > max_length - 2) {
      ids.resize(max_length - 2);
      ++enc.truncated_rows;
    }
    ids.insert(ids.begin(), cls_id_);
    ids.push_back(sep_id_);
    longest = std::max(longest, ids.size());
    rows.push_back(std::move(ids));
  }
  enc.rows = rows.size();
  enc.length = padding == Padding::kMaxLength ? max_length : longest;
  enc.input_ids.assign(enc.rows * enc.length, pad_id_);
  enc.attention_mask.assign(enc.rows * enc.length, 0);
  enc.token_type_ids.assign(enc.rows * enc.length, 0);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::copy(rows[r].begin(), rows[r].end(), enc.input_ids.begin() + static_cast<std::ptrdiff_t>(r * enc.length));
    std::fill_n(enc.attention_mask.begin() + static_cast<std::ptrdiff_t>(r * enc.length), rows[r].size(), 1);
  }
  return enc;
}

std::int64_t WordPieceTokenizer::token_id(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

const std::string& WordPieceTokenizer::token(std::int64_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size()) {
    throw std::out_of_range("token id " + std::to_string(id) + " outside [0, " + std::to_string(vocab_.size()) + ")");
  }
  return vocab_[static_cast<std::size_t>(id)];
}

std::string WordPieceTokenizer::settings_string() const {
  const auto flag = [](bool b) { return b ? "1" : "0"; };
  return std::string("lower_case=") + flag(options_.lower_case) + ",strip_accents=" + flag(options_.strip_accents) +
         ",split_special_tokens=" + flag(options_.split_special_tokens) +
         ",tokenize_chinese_chars=" + flag(options_.tokenize_chinese_chars) +
         ",max_input_chars_per_word=" + std::to_string(options_.max_input_chars_per_word) +
         ",vocab_size=" + std::to_string(vocab_.size()) + ",vocab_fnv1a=" + std::to_string(fnv1a(vocab_));
}

std::vector<std::string> build_wordpiece_vocab(const std::vector<std::string>& sentences, std::size_t max_size,
                                               const WordPieceOptions& options) {
  if (max_size < 5) throw ConfigError("build_wordpiece_vocab: max_size must be >= 5 (the special tokens); got " +
                                      std::to_string(max_size));
  std::map<char32_t, std::size_t> char_counts;
  std::map<std::string, std::size_t> word_counts;
  for (std::size_t s = 0; s < sentences.size(); ++s) {
    const std::u32string text = decode_utf8(sentences[s], "sentence " + std::to_string(s));
    for (const std::u32string& word : basic_tokenize(text, options)) {
      for (const char32_t c : word) ++char_counts[c];
      if (word.size() >= 2 && word.size() <= options.max_input_chars_per_word) ++word_counts[to_utf8(word)];
    }
  }
  std::vector<std::string> vocab = {options.pad_token, options.unk_token, options.cls_token, options.sep_token,
                                    options.mask_token};
  std::unordered_map<std::string, bool> present;
  const auto add = [&](std::string token) {
    if (vocab.size() < max_size && present.emplace(token, true).second) vocab.push_back(std::move(token));
  };
  for (const std::string& s : vocab) present.emplace(s, true);

  std::vector<std::pair<std::size_t, char32_t>> chars;
  for (const auto& [c, n] : char_counts) chars.emplace_back(n, c);
  std::stable_sort(chars.begin(), chars.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [n, c] : chars) {
    std::string bare;
    append_utf8(bare, c);
    add(bare);
    add("##" + bare);
  }
  std::vector<std::pair<std::size_t, std::string>> words;
  for (const auto& [w, n] : word_counts) words.emplace_back(n, w);
  std::stable_sort(words.begin(), words.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [n, w] : words) add(w);
  return vocab;
}

}  // namespace opsbench::models
