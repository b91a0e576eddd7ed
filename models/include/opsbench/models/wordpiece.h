// BERT's WordPiece tokenizer (uncased BERT / MiniLM vocabularies), without libtorch.
//
// Contract: the Hugging Face BertTokenizer's (the Python one, transformers 4.x), checked against
// its output on the MiniLM vocabulary in tests/models/wordpiece_test.cpp:
// - Special tokens ([CLS], [SEP], [UNK], [PAD], [MASK] as configured) written in the text are kept
//   whole, case-sensitively, as BertTokenizer does by default; split_special_tokens = true makes
//   them ordinary text ("[", "cl", "##s", "]").
// - Basic tokenisation of the text between them: with lower_case, every character lower-cased
//   (full Unicode mapping, one character at a time, so "İ" -> "i" + U+0307 and no final sigma);
//   drop NUL, U+FFFD and control characters (Unicode Cc/Cf except tab, CR, LF); whitespace (tab,
//   CR, LF, Unicode Zs) becomes a space; every CJK ideograph becomes a word of its own; NFC; words
//   are split on whitespace (plus U+2028/U+2029, as Python's str.split does); with lower_case and
//   strip_accents, accents stripped (NFD, then combining marks Mn removed); punctuation (ASCII 33-47, 58-64, 91-96, 123-126 and
//   Unicode P*) splits off as single-character words. Unicode properties come from ICU.
// - WordPiece: each word is split greedily longest-match-first against the vocabulary, pieces after
//   the first prefixed with "##"; a word with no complete split, or longer than
//   max_input_chars_per_word characters, becomes the unknown token.
// - encode(): [CLS] pieces [SEP], truncated so the total is at most max_length (the [SEP] is kept),
//   padded with [PAD] (id in the vocabulary) to max_length or to the batch's longest, with an
//   attention mask of 1 for real tokens and 0 for padding, token type ids all 0.
// Text is UTF-8; invalid UTF-8 is a DataError naming the byte offset. Thread-safe after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace opsbench::models {

struct WordPieceOptions {
  bool lower_case = true;
  bool strip_accents = true;  // applies only with lower_case, as in BertTokenizer (strip_accents=None)
  bool split_special_tokens = false;
  bool tokenize_chinese_chars = true;
  std::size_t max_input_chars_per_word = 100;
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
};

enum class Padding { kMaxLength, kLongest };

// One encoded text or a batch of them, row-major [rows x length].
struct Encoding {
  std::size_t rows = 0;
  std::size_t length = 0;
  std::vector<std::int64_t> input_ids;
  std::vector<std::int64_t> attention_mask;
  std::vector<std::int64_t> token_type_ids;
  std::size_t truncated_rows = 0;  // texts that lost pieces to max_length
};

class WordPieceTokenizer {
 public:
  // Vocabulary in id order, one token per entry. DataError when a special token of `options` is
  // missing or a token appears twice (naming both positions).
  WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options = {});
  // vocab.txt: one token per line, line n (0-based) = id n; "\r\n" tolerated, a final newline
  // optional. DataError naming the file and line for a duplicate or an empty token, invalid UTF-8,
  // or when the file cannot be read.
  static WordPieceTokenizer from_vocab_file(const std::string& path, WordPieceOptions options = {});

  // Basic tokenisation then WordPiece: the pieces, as strings.
  std::vector<std::string> tokenize(std::string_view text) const;
  // Pieces -> ids (unknown pieces -> the unknown token's id).
  std::vector<std::int64_t> to_ids(const std::vector<std::string>& pieces) const;

  // max_length >= 2 (ConfigError otherwise).
  Encoding encode(std::string_view text, std::size_t max_length, Padding padding = Padding::kMaxLength) const;
  Encoding encode_batch(const std::vector<std::string>& texts, std::size_t max_length,
                        Padding padding = Padding::kMaxLength) const;

  std::int64_t token_id(const std::string& token) const;  // -1 when absent
  const std::string& token(std::int64_t id) const;  // std::out_of_range for a bad id
  std::size_t vocab_size() const { return vocab_.size(); }
  const std::vector<std::string>& vocab() const { return vocab_; }
  const WordPieceOptions& options() const { return options_; }
  std::int64_t pad_id() const { return pad_id_; }
  std::int64_t cls_id() const { return cls_id_; }
  std::int64_t sep_id() const { return sep_id_; }
  std::int64_t unk_id() const { return unk_id_; }
  std::int64_t mask_id() const { return mask_id_; }
  // Settings as comma-separated "key=value" pairs for a determinism manifest (lower_case,
  // strip_accents, ..., vocab_size and an FNV-1a hash of the vocabulary).
  std::string settings_string() const;

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, std::int64_t> ids_;
  WordPieceOptions options_;
  std::int64_t pad_id_ = -1, cls_id_ = -1, sep_id_ = -1, unk_id_ = -1, mask_id_ = -1;
};

// A WordPiece vocabulary learnt from sentences, for encoders pretrained on a dataset's own text:
// the special tokens ([PAD], [UNK], [CLS], [SEP], [MASK] as named in options: ids 0-4), then every
// character seen in the basic-tokenised words, bare and "##"-prefixed (most frequent first, ties by
// code point), then the most frequent basic-tokenised words of 2+ characters (ties broken by the
// word's bytes), until max_size entries. With every character present, no word of the sentences
// tokenises to [UNK] (unless longer than max_input_chars_per_word) as long as max_size leaves room
// for the characters. Deterministic. ConfigError when max_size < 5; DataError for invalid UTF-8.
std::vector<std::string> build_wordpiece_vocab(const std::vector<std::string>& sentences, std::size_t max_size,
                                               const WordPieceOptions& options = {});

}  // namespace opsbench::models
