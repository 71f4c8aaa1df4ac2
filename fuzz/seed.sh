#!/usr/bin/env bash
# Seeds for every fuzz target, made at run time from the real samples (../../shared/samples)
# and the test fixtures (../tests/fixtures), into fuzz/seeds/<target>/ (never committed).
# Binary targets whose first byte picks a mode get it prefixed: 0x00 raw bytes, 0x01 generated.
set -euo pipefail
cd "$(dirname "$0")"
S=../../shared/samples
F=../tests/fixtures
rm -rf seeds
for t in framing text_formats event_file trainer_state csv safetensors pytorch wandb mlflow discovery; do
  mkdir -p "seeds/$t"
done
n=0
put() { # put TARGET FILE [PREFIX-BYTE-HEX] [HEAD-BYTES]
  local t=$1 f=$2 pre=${3:-} len=${4:-65536}
  [ -f "$f" ] || return 0
  n=$((n + 1))
  { [ -n "$pre" ] && printf "\\x$pre"; head -c "$len" "$f"; } > "seeds/$t/$n-$(basename "$f" | tr -c 'A-Za-z0-9._\n-' _)"
}
if [ -d "$S" ]; then
  # Text logs: the first 4 KiB and a stretch from the middle of each.
  while IFS= read -r -d '' f; do
    case "$f" in *.safetensors|*.pt|*.bin|*.wandb|*tfevents*|*.py|*.md) continue ;; esac
    put framing "$f" "" 4096
    put text_formats "$f" "" 4096
    size=$(stat -c %s "$f")
    if [ "$size" -gt 16384 ]; then
      n=$((n + 1))
      (tail -c +$((size / 2)) "$f" | head -c 4096 > "seeds/text_formats/$n-mid-$(basename "$f")") || true
    fi
  done < <(find "$S" -type f -print0)
  while IFS= read -r -d '' f; do put trainer_state "$f"; done < <(find "$S" -name 'trainer_state.json' -print0)
  while IFS= read -r -d '' f; do put csv "$f" "" 8192; done < <(find "$S" -name '*.csv' -print0)
  while IFS= read -r -d '' f; do put event_file "$f" 00 32768; done < <(find "$S" -name 'events.out.tfevents*' -print0)
  while IFS= read -r -d '' f; do put wandb "$f" 00 40000; done < <(find "$S" -name '*.wandb' -print0)
  while IFS= read -r -d '' f; do put mlflow "$f" "" 4096; done < <(find "$S" -path '*metrics/*' -type f -print0)
fi
for f in "$F"/wandb/*.wandb; do put wandb "$f" 00 40000; done
for f in "$F"/pytorch/*.pt "$F"/pytorch/*.bin "$F"/pytorch/*.ckpt "$F"/pytorch/sharded/*.bin; do put pytorch "$f"; done
# Generated modes: any bytes make a well-formed file.
printf '\x01\x00\x01\x00\x40\x3f\x02\x01\x02\x00\x40\x80\x05\x02\x03\x00\x41\x00\x00' > seeds/event_file/gen-1
printf '\x01\x01\x00\x00\x40\x00\x02\x00\x00\x41\xff\x03\x00\x80\x3f\x10' > seeds/wandb/gen-1
printf '\x00\x01\x01\x03\x00\x02\x05\x03\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f' > seeds/discovery/gen-1
printf '\x0a\x00\x0d\x0b\x01\x19\x05\x07\x1f\x07\x06\x07' > seeds/discovery/gen-2
printf '1700000000000 0.5 1\n1700000000001 nan 2\n1700000000002 inf 3 eval 1a2b\n' > seeds/mlflow/gen-1
printf 'step=1 gnorm=0.5\r\n\x1b[31mstep: 2  grad_norm: 1.5\x1b[0m\n' > seeds/framing/gen-1
cp seeds/framing/gen-1 seeds/text_formats/gen-1
# safetensors: small files of the shapes real checkpoints have (whisper's F16 tables, GPT-2's
# wpe, BF16, a 3-D ViT table, metadata), written by this script's own encoder.
python3 - <<'PY'
import json, struct
def st(path, tensors, meta=False):
    header, data = {}, b""
    for i, (name, dtype, shape) in enumerate(tensors):
        size = {"F32": 4, "I32": 4, "F64": 8, "I64": 8, "U8": 1, "I8": 1, "BOOL": 1}.get(dtype, 2)
        n = size
        for d in shape: n *= d
        begin = len(data)
        data += bytes(((k * 37 + i * 11) & 0xff) ^ 0x3c for k in range(n))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, len(data)]}
    if meta:
        header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
d = "seeds/safetensors/"
st(d + "wpe.safetensors", [("wpe.weight", "F32", [16, 8])])
st(d + "whisper.safetensors", [("decoder.position_encodings.encodings", "F16", [12, 6]), ("encoder.position_encodings.encodings", "F16", [20, 6])], True)
st(d + "bf16.safetensors", [("model.decoder.embed_positions.weight", "BF16", [10, 4]), ("pos_embed", "F32", [1, 5, 4]), ("embeddings.position_ids", "I64", [1, 12])])
st(d + "evil.safetensors", [("x\u001b[2Jwpe.weight", "F64", [6, 3])], True)
PY
echo "seeds: $(find seeds -type f | wc -l) files in $(ls seeds | wc -l) targets"
