// register_models(): adds the neural and LLM methods of models/ to a registry, and installs the
// libtorch runtime hooks (seeding, intra-op threads, version in the environment block) when opsbench
// is built with libtorch.
//
// The methods themselves (VAE and Refine, BERT-family encoders with LoRA/QLoRA/pruning, decoders
// with in-context learning, LLM table synthesis) arrive with their own issues; until then this
// folder contributes only the runtime hooks, so that every cell already seeds libtorch and pins its
// thread count from the Context.
#pragma once

namespace opsbench {
class Registry;
void register_models(Registry& registry);
// True when this build links libtorch.
bool have_torch();
}  // namespace opsbench
