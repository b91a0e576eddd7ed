// The VAE-family methods (private to models/; torch-free so registration compiles everywhere).
//
//   vae / prodigy  the Refine paper's VAE trained once on every training row (Prodigy, the
//                  paper's baseline). Score = per-row reconstruction MAE, higher = more anomalous.
//   refine         Algorithm 1 of the Refine paper: iterative removal of high-error training rows,
//                  with a per-iteration lineage (refine.h).
#pragma once

#include <memory>
#include <vector>

#include "opsbench/core/method.h"
#include "opsbench/core/options.h"

namespace opsbench::models {

// Options shared by vae, prodigy and refine (architecture and one training run).
std::vector<OptionDecl> vae_declarations();
// refine's own options (vae_declarations() included).
std::vector<OptionDecl> refine_declarations();

std::unique_ptr<Detector> make_vae_detector(const Options& options);
std::unique_ptr<Detector> make_refine_detector(const Options& options);

}  // namespace opsbench::models
