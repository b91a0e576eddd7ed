// bert-full, bert-linear, bert-lora, bert-qlora, bert-prune, bert-numeric: sequence classifiers
// over a BERT-family encoder (registered by add_encoder_classifiers, see methods.h).
//
// Input: the table's text column (option text_column, or the only text column; keep it with the
// suite's [preprocess] text = "keep"); a table without one is textualised with the Flow-Bench
// template ("<feat> is <val> ..."). bert-numeric also takes the numeric columns (scale them in the
// suite) through an MLP beside the pooled text (thesis ch. 4).
// Modes (Jin et al. 2024; Zhang et al. 2024):
//   full    every parameter trained;
//   linear  encoder frozen, only the head (the paper's answer to catastrophic forgetting);
//   lora    encoder frozen, LoRA adapters on query and value (lora.h); merged for inference when
//           merge = true, so inference costs what the plain model costs;
//   qlora   every layer projection stored as frozen NF4 (nf4.h; no float32 copy kept), LoRA on
//           query and value; inference keeps the NF4 base (merging would undo the saving);
//   prune   qlora, then iterative structured pruning of the MLP neurons (pruning.h): each step
//           removes prune_step of the original neurons by `importance` and fine-tunes step_epochs;
//           after reaching prune_total, a last fine-tuning of `epochs` with early stopping;
//   numeric full fine-tuning of the encoder + numeric branch + head.
// Early stopping and model selection use the validation part when the suite's split has one.
// Diagnostics: trainable/total parameters, epochs, training time, validation F1 per epoch, and the
// determinism manifest (weights and vocabulary sha256, tokenizer settings, max length, the sha256
// of the fitted model's safetensors). model_size_bytes() is the size of that safetensors file.
#ifdef OPSBENCH_HAVE_TORCH

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "encoder_pretrain.h"
#include "encoder_setup.h"
#include "encoder_training.h"
#include "lora.h"
#include "methods.h"
#include "nf4.h"
#include "opsbench/core/csv.h"
#include "opsbench/core/error.h"
#include "opsbench/core/portable_random.h"
#include "opsbench/datasets/transforms.h"
#include "opsbench/models/safetensors.h"
#include "pruning.h"

namespace opsbench::models {
namespace {

enum class Mode { kFull, kLinear, kLora, kQlora, kPrune, kNumeric };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kFull: return "bert-full";
    case Mode::kLinear: return "bert-linear";
    case Mode::kLora: return "bert-lora";
    case Mode::kQlora: return "bert-qlora";
    case Mode::kPrune: return "bert-prune";
    case Mode::kNumeric: return "bert-numeric";
  }
  return "bert";
}

std::vector<std::string> sentences_of(const Table& table, const std::string& text_column, const char* method) {
  const Column* found = nullptr;
  for (const Column& c : table.columns()) {
    if (c.type() != ColumnType::kText) continue;
    if (!text_column.empty() && c.name() != text_column) continue;
    if (found)
      throw DataError(std::string(method) + ": the table has several text columns ('" + found->name() + "', '" +
                      c.name() + "'); choose one with text_column");
    found = &c;
  }
  if (found) return found->texts();
  if (!text_column.empty())
    throw DataError(std::string(method) + ": no text column '" + text_column +
                    "' (keep text columns with [preprocess] text = \"keep\")");
  return textualise(table);
}

torch::Tensor to_long_tensor(const std::vector<std::int64_t>& values, std::int64_t rows, std::int64_t cols) {
  return torch::from_blob(const_cast<std::int64_t*>(values.data()), {rows, cols}, torch::kLong).clone();
}

class EncoderClassifier : public Classifier {
 public:
  EncoderClassifier(Mode mode, const Options& o)
      : mode_(mode),
        weights_(o.get_string("weights")),
        text_column_(o.get_string("text_column")),
        save_(o.get_string("save")),
        validation_limit_(o.get_int("validation_rows")),
        max_length_(o.get_int("max_length")),
        mlm_epochs_(o.get_int("mlm_epochs")) {
    shape_.hidden = o.get_int("hidden");
    shape_.layers = o.get_int("layers");
    shape_.heads = o.get_int("heads");
    shape_.intermediate = o.get_int("intermediate");
    shape_.vocab_size = o.get_int("vocab_size");
    train_.epochs = static_cast<int>(o.get_int("epochs"));
    train_.batch_size = static_cast<int>(o.get_int("batch_size"));
    train_.lr = o.get_double("lr");
    train_.weight_decay = o.get_double("weight_decay");
    train_.warmup_fraction = o.get_double("warmup");
    train_.patience = static_cast<int>(o.get_int("patience"));
    train_.eval_batch_size = static_cast<int>(o.get_int("eval_batch_size"));
    if (mode_ == Mode::kLora || mode_ == Mode::kQlora || mode_ == Mode::kPrune) {
      lora_r_ = o.get_int("lora_r");
      lora_alpha_ = o.get_double("lora_alpha");
      lora_dropout_ = o.get_double("lora_dropout");
      merge_ = o.get_bool("merge");
    }
    if (mode_ == Mode::kQlora || mode_ == Mode::kPrune) double_quant_ = o.get_bool("double_quant");
    if (mode_ == Mode::kPrune) {
      prune_step_ = o.get_double("prune_step");
      prune_total_ = o.get_double("prune_total");
      step_epochs_ = static_cast<int>(o.get_int("step_epochs"));
      importance_ = o.get_string("importance");
    }
    if (mode_ == Mode::kNumeric) {
      for (const auto& w : o.get_list("numeric_layers")) numeric_hidden_.push_back(std::stoll(w));
    }
  }

  void set_validation_rows(const Table& rows, const std::vector<int>& labels) override {
    validation_ = rows;
    validation_labels_ = labels;
  }

  void fit(const Table& train, const std::vector<int>& labels, int num_classes, const Context& ctx) override {
    const char* name = mode_name(mode_);
    if (train.num_rows() == 0) throw DataError(std::string(name) + ": the training table is empty");
    if (labels.size() != train.num_rows()) throw DataError(std::string(name) + ": labels and rows differ in number");
    if (num_classes < 2) throw DataError(std::string(name) + ": needs at least two classes");
    classes_ = num_classes;
    device_ = ctx.device == Device::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    train_.device = device_;
    train_.seed = ctx.seed;

    const std::vector<std::string> sentences = sentences_of(train, text_column_, name);
    source_ = resolve_encoder(weights_, sentences, shape_, max_length_);
    const EncodedRows rows = encode(train, &labels);
    EncodedRows validation;
    if (validation_.num_rows() > 0) {
      if (validation_limit_ > 0 && validation_.num_rows() > static_cast<std::size_t>(validation_limit_)) {
        // A seeded subset keeps per-epoch validation affordable on CPUs (declared in the option).
        std::vector<std::size_t> order(validation_.num_rows());
        std::iota(order.begin(), order.end(), 0);
        std::mt19937_64 rng = ctx.rng(0x76616cULL);
        portable_shuffle(order, rng);
        order.resize(static_cast<std::size_t>(validation_limit_));
        std::sort(order.begin(), order.end());
        std::vector<int> labels_subset;
        for (std::size_t r : order) labels_subset.push_back(validation_labels_[r]);
        validation_ = validation_.take(order);
        validation_labels_ = std::move(labels_subset);
      }
      validation = encode(validation_, &validation_labels_);
    }

    torch::manual_seed(ctx.seed);
    const std::int64_t numeric_dim = mode_ == Mode::kNumeric ? rows.numeric.size(1) : 0;
    model_ = TextClassifier(source_.config, num_classes, numeric_dim, numeric_hidden_);
    if (source_.kind == "pretrained") {
      const SafetensorsFile file = read_safetensors(source_.weights_path);
      load_encoder_weights(model_->bert, source_, file);
      load_head(file);
    }
    if (source_.kind == "mlm") {
      MlmConfig mlm;
      mlm.epochs = static_cast<int>(mlm_epochs_);
      mlm.seed = ctx.seed;
      mlm.mask_id = source_.tokenizer->mask_id();
      mlm.special_ids = {source_.tokenizer->pad_id(), source_.tokenizer->cls_id(), source_.tokenizer->sep_id(),
                         source_.tokenizer->unk_id(), source_.tokenizer->mask_id()};
      mlm.device = device_;
      model_->bert->to(device_);
      mlm_ = pretrain_mlm(model_->bert, rows.ids, rows.mask, mlm);
    }
    prepare_mode();
    model_->to(device_);
    const EncodedRows* val = validation.size() > 0 ? &validation : nullptr;
    if (mode_ == Mode::kPrune) {
      run_pruning(rows, val);
    } else {
      result_ = fine_tune(model_, rows, val, num_classes, train_);
    }
    if (merge_ && mode_ == Mode::kLora) merge_lora(model_->bert);
    model_->eval();
    record_saved_model();
    if (!save_.empty()) save_model();
  }

  Matrix predict_proba(const Table& rows, const Context& /*ctx*/) const override {
    if (!model_) throw ModelError(std::string(mode_name(mode_)) + ": predict_proba() before fit()");
    const EncodedRows encoded = encode(rows, nullptr);
    const torch::Tensor p = predict_probabilities(model_, encoded, train_.eval_batch_size, device_).contiguous();
    Matrix out(rows.num_rows(), static_cast<std::size_t>(classes_));
    std::copy(p.data_ptr<double>(), p.data_ptr<double>() + p.numel(), out.data.begin());
    return out;
  }

  std::size_t model_size_bytes() const override { return saved_bytes_; }

  std::vector<Figure> diagnostics() const override {
    std::vector<Figure> f;
    const ParameterCounts counts = model_ ? count_parameters(*model_) : ParameterCounts{};
    f.push_back({"bert.parameters.total", static_cast<double>(counts.total), "count", "fitted model", true, ""});
    f.push_back({"bert.parameters.trainable", static_cast<double>(trainable_), "count",
                 "parameters updated by fine-tuning", true, ""});
    f.push_back({"bert.epochs", static_cast<double>(result_.epochs_run + prune_epochs_), "count",
                 "fine-tuning epochs run (pruning steps included)", true, ""});
    f.push_back({"bert.best_epoch", static_cast<double>(result_.best_epoch), "count",
                 "epoch whose parameters were kept", true, ""});
    f.push_back({"bert.train_time", result_.seconds + prune_seconds_, "s", "steady_clock (fine-tuning)", true, ""});
    if (!mlm_.loss.empty())
      f.push_back({"bert.mlm_time", mlm_.seconds, "s", "steady_clock (in-cell MLM pretraining)", true, ""});
    if (!result_.validation_f1.empty())
      f.push_back({"bert.validation_f1", result_.validation_f1[static_cast<std::size_t>(result_.best_epoch - 1)], "",
                   "validation F1 of the kept epoch", true, ""});
    if (mode_ == Mode::kPrune)
      f.push_back({"bert.pruned_fraction", pruned_fraction_, "", "share of the original MLP neurons removed", true, ""});
    return f;
  }

  std::map<std::string, std::string> diagnostic_info() const override {
    auto info = source_.manifest;
    info["bert.mode"] = mode_name(mode_);
    info["bert.model_sha256"] = saved_sha256_;
    std::string curve;
    for (double v : result_.validation_f1) curve += (curve.empty() ? "" : ";") + std::to_string(v);
    if (!curve.empty()) info["bert.validation_f1_per_epoch"] = curve;
    if (!prune_log_.empty()) info["bert.pruning"] = prune_log_;
    return info;
  }

 private:
  EncodedRows encode(const Table& table, const std::vector<int>* labels) const {
    const auto texts = sentences_of(table, text_column_, mode_name(mode_));
    const Encoding e = source_.tokenizer->encode_batch(texts, static_cast<std::size_t>(max_length_));
    EncodedRows rows;
    const auto n = static_cast<std::int64_t>(e.rows), length = static_cast<std::int64_t>(e.length);
    rows.ids = to_long_tensor(e.input_ids, n, length);
    rows.mask = to_long_tensor(e.attention_mask, n, length);
    if (mode_ == Mode::kNumeric) {
      const Matrix x = table.to_matrix();
      if (x.cols == 0) throw DataError("bert-numeric: the table has no numeric columns");
      rows.numeric = torch::from_blob(const_cast<double*>(x.data.data()),
                                      {static_cast<std::int64_t>(x.rows), static_cast<std::int64_t>(x.cols)},
                                      torch::kDouble)
                         .to(torch::kFloat);
    }
    if (labels) {
      std::vector<std::int64_t> y(labels->begin(), labels->end());
      for (std::size_t i = 0; i < y.size(); ++i)
        if (y[i] < 0 || y[i] >= classes_)
          throw DataError(std::string(mode_name(mode_)) + ": label " + std::to_string(y[i]) + " of row " +
                          std::to_string(i) + " is outside [0, " + std::to_string(classes_) + ")");
      rows.labels = torch::from_blob(y.data(), {n}, torch::kLong).clone();
    }
    return rows;
  }

  // A checkpoint of a fitted sequence classifier (Hugging Face BertForSequenceClassification or
  // this method's `save`) carries the head: it is loaded when its shape fits, so that training can
  // continue (transfer, catastrophic forgetting).
  void load_head(const SafetensorsFile& file) {
    const StoredTensor* w = file.find("classifier.weight");
    const StoredTensor* b = file.find("classifier.bias");
    if (!w || !b || model_->numeric_dim() > 0) return;
    const auto& shape = model_->classifier->weight.sizes();
    if (w->shape != std::vector<std::int64_t>(shape.begin(), shape.end())) {
      source_.manifest["bert.head"] = "new (the checkpoint's head has another shape)";
      return;
    }
    torch::NoGradGuard no_grad;
    const std::vector<float> wv = to_float32(*w), bv = to_float32(*b);
    model_->classifier->weight.copy_(torch::from_blob(const_cast<float*>(wv.data()), shape, torch::kFloat));
    model_->classifier->bias.copy_(
        torch::from_blob(const_cast<float*>(bv.data()), {static_cast<std::int64_t>(bv.size())}, torch::kFloat));
    source_.manifest["bert.head"] = "from the checkpoint";
  }

  // `save`: a directory a later cell can name as its weights (config.json, vocab.txt,
  // model.safetensors with the head). Only float32 models (not NF4) can be read back.
  void save_model() const {
    std::filesystem::create_directories(save_);
    const std::filesystem::path dir(save_);
    {
      std::ofstream config(dir / "config.json");
      config << source_.config.to_json_text() << "\n";
      std::ofstream vocab(dir / "vocab.txt");
      for (const auto& token : source_.tokenizer->vocab()) vocab << token << "\n";
      if (!config || !vocab) throw ModelError(std::string(mode_name(mode_)) + ": cannot write to " + save_);
    }
    write_safetensors((dir / "model.safetensors").string(), bert_state(*model_));
  }

  void freeze_encoder() {
    for (auto& p : model_->bert->parameters()) p.set_requires_grad(false);
  }

  void prepare_mode() {
    switch (mode_) {
      case Mode::kFull:
      case Mode::kNumeric:
        break;
      case Mode::kLinear:
        freeze_encoder();
        break;
      case Mode::kLora:
        apply_lora(model_->bert, lora_r_, lora_alpha_, lora_dropout_);
        freeze_except_adapters(*model_, {"classifier.", "numeric."});
        break;
      case Mode::kQlora:
      case Mode::kPrune:
        quantize_base(model_->bert, double_quant_);
        apply_lora(model_->bert, lora_r_, lora_alpha_, lora_dropout_);
        freeze_except_adapters(*model_, {"classifier.", "numeric."});
        break;
    }
    trainable_ = count_parameters(*model_).trainable;
  }

  void run_pruning(const EncodedRows& rows, const EncodedRows* val) {
    FineTuneConfig step = train_;
    step.epochs = step_epochs_;
    step.patience = 0;
    const int steps = static_cast<int>(std::lround(prune_total_ / prune_step_));
    const NeuronImportance importance = parse_neuron_importance(importance_);
    const auto start = std::chrono::steady_clock::now();
    for (int s = 1; s <= steps; ++s) {
      std::vector<torch::Tensor> scores;
      if (importance == NeuronImportance::kWeightGradient) {
        GradientImportance gather(model_->bert);
        const FineTuneResult r = fine_tune(model_, rows, val, classes_, step, [&](std::int64_t) { gather.accumulate(); });
        scores = gather.scores();
        prune_epochs_ += r.epochs_run;
      } else {
        prune_epochs_ += fine_tune(model_, rows, val, classes_, step).epochs_run;
        scores = magnitude_importance(model_->bert);
      }
      const PruneReport report = prune_mlp_step(model_->bert, scores, prune_step_);
      pruned_fraction_ = report.pruned_fraction();
      prune_log_ += (prune_log_.empty() ? "" : "; ") + std::string("step ") + std::to_string(s) + ": " +
                    std::to_string(report.total_removed()) + " neurons removed, " +
                    std::to_string(report.remaining.empty() ? 0 : report.remaining[0]) + " left per layer";
    }
    prune_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result_ = fine_tune(model_, rows, val, classes_, train_);
  }

  // The fitted model as it would be saved: its safetensors bytes and sha256 (determinism manifest).
  void record_saved_model() {
    const auto path = std::filesystem::temp_directory_path() /
                      ("opsbench-bert-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".safetensors");
    saved_bytes_ = write_safetensors(path.string(), bert_state(*model_));
    saved_sha256_ = digest_file(path.string()).sha256;
    std::filesystem::remove(path);
  }

  Mode mode_;
  std::string weights_, text_column_, save_;
  std::int64_t validation_limit_ = 0;
  std::int64_t max_length_, mlm_epochs_;
  SmallEncoderShape shape_;
  FineTuneConfig train_;
  std::int64_t lora_r_ = 0;
  double lora_alpha_ = 0, lora_dropout_ = 0;
  bool merge_ = false, double_quant_ = false;
  double prune_step_ = 0.1, prune_total_ = 0.5;
  int step_epochs_ = 2;
  std::string importance_ = "magnitude";
  std::vector<std::int64_t> numeric_hidden_;

  Table validation_;
  std::vector<int> validation_labels_;
  int classes_ = 0;
  torch::Device device_ = torch::kCPU;
  EncoderSource source_;
  mutable TextClassifier model_{nullptr};
  FineTuneResult result_;
  MlmResult mlm_;
  std::int64_t trainable_ = 0;
  std::size_t saved_bytes_ = 0;
  std::string saved_sha256_;
  double pruned_fraction_ = 0, prune_seconds_ = 0;
  int prune_epochs_ = 0;
  std::string prune_log_;
};

std::vector<OptionDecl> common_options(double lr, int epochs) {
  return {
      OptionDecl::string("weights", "all-MiniLM-L6-v2",
                         "pretrained model name or directory (config.json, vocab.txt, model.safetensors), "
                         "or mlm (small encoder pretrained in the cell on the training sentences) or random"),
      OptionDecl::string("text_column", "", "text column to classify (empty: the only text column, else textualise)"),
      OptionDecl::integer("max_length", 128, 8, 4096, "tokens per sequence including [CLS] and [SEP]"),
      OptionDecl::string("save", "", "directory to save the fitted model in (a later cell's weights)"),
      OptionDecl::integer("epochs", epochs, 1, 1000, "fine-tuning epochs (early stopping may end sooner)"),
      OptionDecl::integer("batch_size", 16, 1, 4096, "training sequences per step"),
      OptionDecl::integer("eval_batch_size", 64, 1, 4096, "sequences per inference batch (validation, prediction)"),
      OptionDecl::real("lr", lr, 1e-7, 1.0, "peak AdamW learning rate"),
      OptionDecl::real("weight_decay", 0.01, 0.0, 1.0, "AdamW decoupled weight decay (none on biases, LayerNorm)"),
      OptionDecl::real("warmup", 0.1, 0.0, 1.0, "share of the steps with a linear warm-up, then linear decay to 0"),
      OptionDecl::integer("patience", 2, 0, 1000, "epochs without a better validation F1 before stopping (0 = off)"),
      OptionDecl::integer("validation_rows", 0, 0, std::nullopt,
                          "validation rows used for early stopping (0 = all; else a seeded subset)"),
      OptionDecl::integer("hidden", 64, 8, 4096, "mlm/random encoders: hidden size"),
      OptionDecl::integer("layers", 2, 1, 48, "mlm/random encoders: layers"),
      OptionDecl::integer("heads", 4, 1, 64, "mlm/random encoders: attention heads (must divide hidden)"),
      OptionDecl::integer("intermediate", 256, 8, 16384, "mlm/random encoders: MLP width"),
      OptionDecl::integer("vocab_size", 4000, 16, 200000, "mlm/random encoders: largest vocabulary built"),
      OptionDecl::integer("mlm_epochs", 3, 1, 1000, "weights = mlm: masked-language-model pretraining epochs"),
  };
}

void add_lora_options(std::vector<OptionDecl>& o, bool merge_default) {
  o.push_back(OptionDecl::integer("lora_r", 8, 1, 1024, "LoRA rank"));
  o.push_back(OptionDecl::real("lora_alpha", 16, 0.0, 1e6, "LoRA alpha (scaling = alpha / r)"));
  o.push_back(OptionDecl::real("lora_dropout", 0.05, 0.0, 0.99, "dropout on the adapter input in training"));
  o.push_back(OptionDecl::boolean("merge", merge_default, "fold the adapters into the weights for inference"));
}

void add_entry(Registry& registry, Mode mode, std::string description, std::string reference,
               std::vector<OptionDecl> options) {
  MethodEntry e;
  e.name = mode_name(mode);
  e.kind = MethodKind::kClassifier;
  e.description = std::move(description);
  e.reference = std::move(reference);
  e.options = std::move(options);
  e.make_classifier = [mode](const Options& o) -> std::unique_ptr<Classifier> {
    return std::make_unique<EncoderClassifier>(mode, o);
  };
  e.contract_options = "weights=random,hidden=16,layers=1,heads=2,intermediate=32,max_length=32,epochs=2";
  registry.add(std::move(e));
}

}  // namespace

void add_encoder_classifiers(Registry& registry) {
  const std::string devlin = "Devlin et al. 2019 (BERT); Jin et al. 2024 (Flow-Bench SFT)";
  add_entry(registry, Mode::kFull, "BERT-family encoder, every parameter fine-tuned (SFT)", devlin,
            common_options(5e-5, 3));
  add_entry(registry, Mode::kLinear, "BERT-family encoder frozen, only the classification head trained", devlin,
            common_options(1e-3, 3));
  auto lora = common_options(5e-4, 3);
  add_lora_options(lora, true);
  add_entry(registry, Mode::kLora, "BERT-family encoder frozen, LoRA adapters on query and value",
            "Hu et al. 2022 (LoRA); Zhang et al. 2024 (r 2, alpha 4, dropout 0.005)", lora);
  auto qlora = common_options(5e-4, 3);
  add_lora_options(qlora, false);
  qlora.push_back(OptionDecl::boolean("double_quant", false, "quantise the NF4 block absmax values too"));
  add_entry(registry, Mode::kQlora, "frozen NF4 4-bit encoder projections with LoRA on query and value",
            "Dettmers et al. 2023 (QLoRA, NF4); Zhang et al. 2024", qlora);
  auto prune = qlora;
  prune.push_back(OptionDecl::real("prune_step", 0.1, 0.01, 0.9, "share of the original MLP neurons removed per step"));
  prune.push_back(OptionDecl::real("prune_total", 0.5, 0.01, 0.99, "share of the original MLP neurons removed in all"));
  prune.push_back(OptionDecl::integer("step_epochs", 2, 1, 100, "fine-tuning epochs between pruning steps"));
  prune.push_back(OptionDecl::choice("importance", "magnitude", {"magnitude", "weight_gradient"},
                                     "neuron importance: weight magnitude or |weight x gradient|"));
  add_entry(registry, Mode::kPrune, "QLoRA with iterative structured pruning of the MLP neurons",
            "Zhang et al. 2024 (resource-efficient LLM log anomaly detection)", prune);
  auto numeric = common_options(5e-5, 3);
  numeric.push_back(OptionDecl::list("numeric_layers", "64", "widths of the MLP over the numeric columns"));
  add_entry(registry, Mode::kNumeric, "BERT-family encoder with extra layers for numeric features",
            "Zang (thesis ch. 4): LLM with extra numeric layers for job end-state prediction", numeric);
}

}  // namespace opsbench::models

#endif  // OPSBENCH_HAVE_TORCH
