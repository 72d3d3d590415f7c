#!/bin/sh
# Regenerates Sources/TuneExport/Generated/*.pb.swift: the TensorBoard event, summary and HParams messages, with
# swift-protobuf's generator, from the descriptors compiled into the `tensorboard` Python package (so no .proto file
# is copied into this repository). Run on a dev machine; the generated files are committed.
#   needs: python3 with tensorboard (pip install tensorboard), protoc (apt-get install protobuf-compiler), and a
#   protoc-gen-swift built from swift-protobuf at the version in Package.swift:
#     git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0 &&
#     swift build -c release --product protoc-gen-swift
#   sh tools/proto/generate.sh PATH/TO/protoc-gen-swift
set -eu
cd "$(dirname "$0")/../.."
plugin=${1:?usage: generate.sh PATH/TO/protoc-gen-swift}
work=$(mktemp -d)
python3 - "$work/tb.pb" <<'PY'
import importlib, sys
from google.protobuf import descriptor_pb2
mods = ["tensorboard.compat.proto.event_pb2", "tensorboard.plugins.hparams.api_pb2", "tensorboard.plugins.hparams.plugin_data_pb2"]
files, seen = descriptor_pb2.FileDescriptorSet(), set()
def add(fd):
    if fd.name in seen: return
    for dep in fd.dependencies: add(dep)
    seen.add(fd.name)
    p = descriptor_pb2.FileDescriptorProto(); fd.CopyToProto(p); files.file.append(p)
for m in mods: add(importlib.import_module(m).DESCRIPTOR)
open(sys.argv[1], "wb").write(files.SerializeToString())
PY
protoc --descriptor_set_in="$work/tb.pb" --plugin=protoc-gen-swift="$plugin" --swift_out=Sources/TuneExport/Generated \
    --swift_opt=Visibility=Internal --swift_opt=FileNaming=DropPath \
    tensorboard/compat/proto/types.proto tensorboard/compat/proto/tensor_shape.proto tensorboard/compat/proto/resource_handle.proto \
    tensorboard/compat/proto/tensor.proto tensorboard/compat/proto/histogram.proto tensorboard/compat/proto/summary.proto \
    tensorboard/compat/proto/event.proto tensorboard/plugins/hparams/api.proto tensorboard/plugins/hparams/plugin_data.proto
python3 -c 'import tensorboard; print("generated from tensorboard", tensorboard.__version__)'
