// Families of models/ methods, each registered from its own file by register_models().
#pragma once

#include "opsbench/core/registry.h"

namespace opsbench::models {

// mlp-ae (MLP autoencoder detector).
void add_autoencoders(Registry& registry);
// mlp (MLP classifier).
void add_neural_classifiers(Registry& registry);
// vae (= prodigy) and refine.
void add_vae_methods(Registry& registry);
// bert-full, bert-linear, bert-lora, bert-qlora, bert-prune, bert-numeric.
void add_encoder_classifiers(Registry& registry);

}  // namespace opsbench::models
