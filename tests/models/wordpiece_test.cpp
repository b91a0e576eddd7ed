// WordPiece: every rule of BertTokenizer's on a small hand-written vocabulary (expected pieces
// worked out by hand from transformers 4.46.3's tokenization_bert.py), then the real MiniLM
// vocabulary against ids produced by BertTokenizer itself (fixture; [data], skips without the model).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "opsbench/core/error.h"
#include "opsbench/models/pretrained.h"
#include "opsbench/models/wordpiece.h"

using namespace opsbench::models;
using opsbench::ConfigError;
using opsbench::DataError;
using Pieces = std::vector<std::string>;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##af", "##able", "aff", "##a", "a", "run",
    "##ning", ",", ".", "!", "$", "^", "`", "[", "]", "cafe", "naive", "café", "é", "中", "文", "hello", "world",
    "##b", "b", "x", "i", "σ", "##α", "##σ", "ж", "##ж", "cls", "sep", "caf", "##e"};

WordPieceTokenizer make(WordPieceOptions options = {}) { return WordPieceTokenizer(kVocab, std::move(options)); }

std::string fixture_path() { return std::string(OPSBENCH_TEST_DIR) + "/models/fixtures/wordpiece_minilm_reference.json"; }

class TempFile {
 public:
  explicit TempFile(const std::string& bytes) {
    static std::atomic<int> counter{0};
    path_ = (fs::temp_directory_path() /
             ("opsbench_wordpiece_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".txt"))
                .string();
    std::ofstream(path_, std::ios::binary) << bytes;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("wordpiece splits greedily, longest match first, with ## continuations", "[models][wordpiece]") {
  const WordPieceTokenizer tok = make();
  // "##aff" wins over the shorter "##af"; "un" is the longest prefix in the vocabulary.
  CHECK(tok.tokenize("UNaffable running") == Pieces{"un", "##aff", "##able", "run", "##ning"});
  CHECK(tok.tokenize("affa") == Pieces{"aff", "##a"});
  CHECK(tok.tokenize("xb") == Pieces{"x", "##b"});
  // No complete split: the whole word is [UNK], not the pieces found before the failure.
  CHECK(tok.tokenize("xbz the") == Pieces{"[UNK]", "the"});
  CHECK(tok.to_ids({"un", "##aff", "nope"}) == std::vector<std::int64_t>{6, 7, 1});
  CHECK(tok.tokenize("") == Pieces{});
  CHECK(tok.tokenize(" \t\n ") == Pieces{});
}

TEST_CASE("wordpiece lower-cases, strips accents and composes to NFC", "[models][wordpiece]") {
  CHECK(make().tokenize("Café NAÏVE") == Pieces{"cafe", "naive"});
  CHECK(make().tokenize("cafe\u0301") == Pieces{"cafe"});  // decomposed accent, stripped too
  // One character at a time, as BertTokenizer's pre-pass does: no final sigma, and "İ" becomes
  // "i" + U+0307, whose combining dot is then stripped.
  CHECK(make().tokenize("ΣΑΣ İ") == Pieces{"σ", "##α", "##σ", "i"});

  WordPieceOptions keep_accents;
  keep_accents.strip_accents = false;
  CHECK(make(keep_accents).tokenize("CAFÉ") == Pieces{"café"});
  CHECK(make(keep_accents).tokenize("cafe\u0301") == Pieces{"café"});  // NFC composes it first

  WordPieceOptions cased;
  cased.lower_case = false;
  CHECK(make(cased).tokenize("Hello hello") == Pieces{"[UNK]", "hello"});
  CHECK(make(cased).tokenize("e\u0301 é") == Pieces{"é", "é"});  // NFC; accents kept without lower_case
}

TEST_CASE("wordpiece splits punctuation, CJK ideographs and whitespace like BertTokenizer", "[models][wordpiece]") {
  const WordPieceTokenizer tok = make();
  CHECK(tok.tokenize("hello,world!") == Pieces{"hello", ",", "world", "!"});
  // ASCII symbols count as punctuation though Unicode calls them Sc/Sk; Unicode P* splits too.
  CHECK(tok.tokenize("a$b^a`b") == Pieces{"a", "$", "b", "^", "a", "`", "b"});
  CHECK(tok.tokenize("hello\u2014world") == Pieces{"hello", "[UNK]", "world"});
  CHECK(tok.tokenize("hello\u00ABworld\u00BB") == Pieces{"hello", "[UNK]", "world", "[UNK]"});
  // Every CJK ideograph is a word of its own; kana is not CJK for BERT.
  CHECK(tok.tokenize("中文hello中") == Pieces{"中", "文", "hello", "中"});
  CHECK(tok.tokenize("\u3042\u3044") == Pieces{"[UNK]"});
  WordPieceOptions no_cjk;
  no_cjk.tokenize_chinese_chars = false;
  CHECK(make(no_cjk).tokenize("中文") == Pieces{"[UNK]"});  // one word; "##文" is not in the vocabulary
  // Whitespace: tab, CR, LF, Zs (no-break space, ideographic space), and U+2028/U+2029, which
  // Python's str.split() treats as separators.
  CHECK(tok.tokenize("hello\tworld\r\nthe\u00A0a\u3000b\u2028x\u2029i") ==
        Pieces{"hello", "world", "the", "a", "b", "x", "i"});
}

TEST_CASE("wordpiece drops control and format characters", "[models][wordpiece]") {
  const WordPieceTokenizer tok = make();
  CHECK(tok.tokenize(std::string("hel\0lo", 6)) == Pieces{"hello"});  // NUL
  CHECK(tok.tokenize("hel\x07lo wor\u200Bld") == Pieces{"hello", "world"});  // Cc bell, Cf zero-width space
  CHECK(tok.tokenize("hel\uFFFDlo the\uFEFF") == Pieces{"hello", "the"});  // replacement char, BOM
  // U+0085 (NEL) and U+000B are Cc: removed, not whitespace, so the words join.
  CHECK(tok.tokenize("hello\u0085world") == Pieces{"[UNK]"});
  CHECK(tok.tokenize("the\x0b" "x") == Pieces{"[UNK]"});  // "thex": no "##x"
}

TEST_CASE("wordpiece counts word length in characters and keeps special tokens whole", "[models][wordpiece]") {
  WordPieceOptions short_words;
  short_words.max_input_chars_per_word = 5;
  const WordPieceTokenizer tok = make(short_words);
  CHECK(tok.tokenize("жжжжж") == Pieces{"ж", "##ж", "##ж", "##ж", "##ж"});  // 10 bytes, 5 characters
  CHECK(tok.tokenize("жжжжжж") == Pieces{"[UNK]"});
  CHECK(make().tokenize(std::string(100, 'a')).size() == 100);
  CHECK(make().tokenize(std::string(101, 'a')) == Pieces{"[UNK]"});

  const WordPieceTokenizer plain = make();
  CHECK(plain.tokenize("[CLS] hello[SEP]the [MASK][PAD]") == Pieces{"[CLS]", "hello", "[SEP]", "the", "[MASK]", "[PAD]"});
  CHECK(plain.tokenize("[cls]") == Pieces{"[", "cls", "]"});  // case-sensitive match
  WordPieceOptions split;
  split.split_special_tokens = true;
  CHECK(make(split).tokenize("[CLS] x [SEP]") == Pieces{"[", "cls", "]", "x", "[", "sep", "]"});
}

TEST_CASE("wordpiece rejects invalid UTF-8 with the byte offset", "[models][wordpiece]") {
  const WordPieceTokenizer tok = make();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ab\xff", "byte offset 2"},                 // not a lead byte
      {"hello \xc3", "byte offset 6"},             // truncated sequence
      {"\xc0\xaf", "byte offset 0"},               // overlong "/"
      {"x\xed\xa0\x80", "byte offset 1"},          // UTF-16 surrogate
      {"xy\xf4\x90\x80\x80", "byte offset 2"},     // past U+10FFFF
      {"\xe4\xb8\x41", "byte offset 0"}};          // bad continuation byte
  for (const auto& [text, expected] : cases) {
    CHECK_THROWS_WITH(tok.tokenize(text), Catch::Contains("invalid UTF-8") && Catch::Contains(expected));
    CHECK_THROWS_AS(tok.encode(text, 8), DataError);
  }
}

TEST_CASE("encode adds [CLS]/[SEP], truncates, pads and masks", "[models][wordpiece]") {
  const WordPieceTokenizer tok = make();
  const Encoding one = tok.encode("hello world", 6);
  CHECK(one.rows == 1);
  CHECK(one.length == 6);
  CHECK(one.input_ids == std::vector<std::int64_t>{2, 29, 30, 3, 0, 0});
  CHECK(one.attention_mask == std::vector<std::int64_t>{1, 1, 1, 1, 0, 0});
  CHECK(one.token_type_ids == std::vector<std::int64_t>(6, 0));
  CHECK(one.truncated_rows == 0);

  const Encoding cut = tok.encode("hello world the a", 4);  // room for 2 pieces; [SEP] kept
  CHECK(cut.input_ids == std::vector<std::int64_t>{2, 29, 30, 3});
  CHECK(cut.truncated_rows == 1);
  CHECK(tok.encode("hello", 2).input_ids == std::vector<std::int64_t>{2, 3});
  CHECK(tok.encode("", 3, Padding::kLongest).input_ids == std::vector<std::int64_t>{2, 3});
  CHECK_THROWS_AS(tok.encode("hello", 1), ConfigError);

  const Encoding batch = tok.encode_batch({"hello", "the a b x i", ""}, 6, Padding::kLongest);
  CHECK(batch.rows == 3);
  CHECK(batch.length == 6);  // the longest row, truncated to max_length
  CHECK(batch.truncated_rows == 1);
  CHECK(batch.input_ids == std::vector<std::int64_t>{2, 29, 3, 0, 0, 0,  //
                                                      2, 5, 12, 32, 33, 3,  //
                                                      2, 3, 0, 0, 0, 0});
  CHECK(batch.attention_mask == std::vector<std::int64_t>{1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0});
  const Encoding short_batch = tok.encode_batch({"hello", "the"}, 64, Padding::kLongest);
  CHECK(short_batch.length == 3);
  CHECK(tok.encode_batch({}, 8).rows == 0);
}

TEST_CASE("wordpiece vocabularies: construction checks and vocab.txt", "[models][wordpiece]") {
  const WordPieceTokenizer tok = make();
  CHECK(tok.vocab_size() == kVocab.size());
  CHECK(tok.token_id("hello") == 29);
  CHECK(tok.token_id("absent") == -1);
  CHECK(tok.token(29) == "hello");
  CHECK_THROWS_AS(tok.token(static_cast<std::int64_t>(kVocab.size())), std::out_of_range);
  CHECK(tok.pad_id() == 0);
  CHECK(tok.unk_id() == 1);
  CHECK(tok.cls_id() == 2);
  CHECK(tok.sep_id() == 3);
  CHECK(tok.mask_id() == 4);
  CHECK_THAT(tok.settings_string(), Catch::StartsWith("lower_case=1,strip_accents=1,") &&
                                        Catch::Contains("max_input_chars_per_word=100") && Catch::Contains("vocab_fnv1a="));
  CHECK(tok.settings_string() != make(WordPieceOptions{false}).settings_string());

  CHECK_THROWS_WITH(WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]"}), Catch::Contains("no mask token '[MASK]'"));
  CHECK_THROWS_WITH(WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "x", "x"}),
                    Catch::Contains("token 'x' at ids 5 and 6"));

  const TempFile crlf("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n##s");  // no final newline
  const WordPieceTokenizer from_file = WordPieceTokenizer::from_vocab_file(crlf.path());
  CHECK(from_file.vocab() == std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "##s"});
  CHECK(from_file.tokenize("Hellos") == Pieces{"hello", "##s"});

  const TempFile duplicate("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhello\n");
  CHECK_THROWS_WITH(WordPieceTokenizer::from_vocab_file(duplicate.path()),
                    Catch::Contains(duplicate.path() + ":7") && Catch::Contains("repeats line 6"));
  const TempFile empty_line("[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n[MASK]\n");
  CHECK_THROWS_WITH(WordPieceTokenizer::from_vocab_file(empty_line.path()),
                    Catch::Contains(empty_line.path() + ":3") && Catch::Contains("empty token"));
  const TempFile bad_utf8("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\xff\n");
  CHECK_THROWS_WITH(WordPieceTokenizer::from_vocab_file(bad_utf8.path()), Catch::Contains(bad_utf8.path() + ":6"));
  const TempFile no_mask("[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
  CHECK_THROWS_WITH(WordPieceTokenizer::from_vocab_file(no_mask.path()),
                    Catch::Contains(no_mask.path()) && Catch::Contains("[MASK]"));
  CHECK_THROWS_AS(WordPieceTokenizer::from_vocab_file("/nonexistent/vocab.txt"), DataError);
}

TEST_CASE("build_wordpiece_vocab: specials, characters, then frequent words", "[models][wordpiece]") {
  const std::vector<std::string> sentences = {"Block blk_1 served to host", "block served; block DELETED",
                                              "Café served", "中文 served"};
  const std::vector<std::string> vocab = build_wordpiece_vocab(sentences, 1000);
  REQUIRE(vocab.size() > 5);
  CHECK(std::vector<std::string>(vocab.begin(), vocab.begin() + 5) ==
        std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"});
  // The most frequent character is "e" (12 times), bare then "##"-prefixed.
  CHECK(vocab[5] == "e");
  CHECK(vocab[6] == "##e");
  // "served" (4) is the most frequent word, then "block" (3); ties ("blk", "cafe", ...) by bytes.
  const auto position = [&](const std::string& t) { return std::find(vocab.begin(), vocab.end(), t) - vocab.begin(); };
  CHECK(position("served") < position("block"));
  CHECK(position("block") < position("blk"));
  CHECK(position("blk") < position("cafe"));
  CHECK(position("café") == static_cast<std::ptrdiff_t>(vocab.size()));  // accents stripped first
  CHECK(position("中") < static_cast<std::ptrdiff_t>(vocab.size()));
  CHECK(build_wordpiece_vocab(sentences, 1000) == vocab);  // deterministic

  const WordPieceTokenizer tok(vocab);
  for (const std::string& s : sentences) {
    for (const std::string& piece : tok.tokenize(s)) CHECK(piece != "[UNK]");
  }
  CHECK(tok.tokenize("Blocks") == Pieces{"block", "##s"});
  CHECK(build_wordpiece_vocab(sentences, 9).size() == 9);
  CHECK_THROWS_AS(build_wordpiece_vocab(sentences, 4), ConfigError);
  CHECK_THROWS_AS(build_wordpiece_vocab({"ok", "bad \xff"}, 100), DataError);
}

TEST_CASE("wordpiece matches BertTokenizer on the all-MiniLM-L6-v2 vocabulary", "[models][wordpiece][data]") {
  const std::string dir = find_pretrained("all-MiniLM-L6-v2");
  if (dir.empty()) {
    WARN("skipped: " << how_to_fetch("all-MiniLM-L6-v2"));
    return;
  }
  std::ifstream in(fixture_path());
  REQUIRE(in);
  const nlohmann::json fixture = nlohmann::json::parse(in);
  const WordPieceTokenizer tok = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
  CHECK(tok.vocab_size() == 30522);
  CHECK(tok.pad_id() == 0);
  CHECK(tok.unk_id() == 100);
  CHECK(tok.cls_id() == 101);
  CHECK(tok.sep_id() == 102);
  CHECK(tok.mask_id() == 103);
  INFO("reference: transformers " << fixture.at("transformers_version").get<std::string>());
  REQUIRE(fixture.at("cases").size() >= 40);
  for (const auto& c : fixture.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    const auto expected = c.at("ids").get<std::vector<std::int64_t>>();
    INFO("text: " << text);
    CHECK(tok.encode(text, 512, Padding::kLongest).input_ids == expected);
  }
}
