// Where pretrained encoder files live on this machine. Nothing here downloads: ci/fetch-models.sh
// (run by `make test`) fetches them; code that needs them asks find_pretrained() and, when it
// returns empty, skips (tests) or fails with how_to_fetch() in the message (suites).
//
// A model directory holds the Hugging Face files config.json, vocab.txt and model.safetensors.
// find_pretrained(name) returns the first directory that holds all three, trying in order:
//   1. `name` itself, when it contains a '/' (a path given directly; nothing else is tried),
//   2. $OPSBENCH_MODEL_DIR/<name>, when the variable is set and non-empty,
//   3. $HOME/.cache/opsbench/models/<name>.
// It returns "" when none does. Any name may be looked up this way (a model copied by hand into
// the cache works); known_pretrained() lists the ones ci/fetch-models.sh can fetch.
// Reads the environment on every call; no state, thread-safe.
#pragma once

#include <string>
#include <vector>

namespace opsbench::models {

// Names ci/fetch-models.sh installs: {"all-MiniLM-L6-v2"}.
const std::vector<std::string>& known_pretrained();

// The directories searched for a bare name, in order (those whose variable is unset are left out).
std::vector<std::string> pretrained_search_dirs();

std::string find_pretrained(const std::string& name);

// One line saying how to get `name`, for skip reasons and error messages, e.g.
// "all-MiniLM-L6-v2 not found in $OPSBENCH_MODEL_DIR or ~/.cache/opsbench/models; run ci/fetch-models.sh".
std::string how_to_fetch(const std::string& name = "all-MiniLM-L6-v2");

// find_pretrained(), or a ConfigError carrying how_to_fetch(name) when it returns "".
std::string require_pretrained(const std::string& name);

}  // namespace opsbench::models
