"""The out-of-the-box detector: a COCO-trained ONNX model on onnxruntime.

The bundled model (weights/coco-centernet-mbv3.onnx, see weights/PROVENANCE.md)
needs no download and runs on a plain CPU. On the CPU its int8 copy
(weights/coco-centernet-mbv3-int8.onnx, made by scripts/quantize_detector.py) is used
unless ``precision='fp32'``; on a GPU the fp32 file always is. Both take any input size that
is a multiple of 32 (``input_size``, default 512: the size it was trained at); smaller is
faster and misses more small objects. Any other ONNX detector in the models folder can be
chosen by name if it has one of the two output layouts below. onnxruntime is imported in
``load()`` only.

Output layouts understood:
- ``detections``: (batch, K, 6) rows of x1, y1, x2, y2, score, class in input pixels
  (the bundled CenterNet; YOLO models exported end-to-end with NMS).
- ``yolo``: (batch, 4 + classes, anchors) rows of cx, cy, w, h and one score per class
  (a plain ultralytics ONNX export).

Input layouts: NHWC with 3 channels last, raw 0..255 RGB (the bundled model), or NCHW
RGB scaled to 0..1 (ultralytics exports). A model whose batch dimension is fixed to 1
(the bundled one) is run one image at a time inside a batch; a model with a dynamic
batch dimension gets the whole batch in one call.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.labels import COCO_CLASSES
from detection.backends.base import Detection, Detector, DetectorError, class_wise_nms, detectors, select_device

logger = logging.getLogger("detection.backends")

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_MODEL = "coco-centernet-mbv3.onnx"
INT8_MODEL = "coco-centernet-mbv3-int8.onnx"
# The names the bundled files had while their input was fixed at 512x512: a DETECTOR_MODEL
# that still says so gets the same model.
RENAMED = {"coco-centernet-mbv3-512.onnx": DEFAULT_MODEL, "coco-centernet-mbv3-512-int8.onnx": INT8_MODEL}
PRECISIONS = ("int8", "fp32")
# Input sizes for models whose input size is not fixed: multiples of the stride of the
# backbones in use (32), within what makes sense for a camera frame.
INPUT_SIZES = range(128, 1281, 32)
# Files shipped with the code are checked before they are loaded: a truncated checkout or
# a corrupted copy must fail with a clear line, not produce nonsense boxes.
BUNDLED_SHA256 = {
    DEFAULT_MODEL: "841b97ca498f4efcccb0ad0684757b3c71cdf317578bb00a950d4ca77ffac000",
    INT8_MODEL: "10082be10278a3d2d1c168975843766d46625ae0332649ce97e723a73f0c26db",
}
NMS_IOU = 0.5


def bundled_model(precision: str, device: str) -> str:
    """The bundled model's file name for `precision` on `device`. int8 is for the CPU only:
    onnxruntime runs a QDQ model on CUDA as float with conversions around every layer, slower
    and less exact than the fp32 file. A checkout without the int8 file falls back to fp32."""
    if precision == "int8" and device == "cpu":
        if (WEIGHTS_DIR / INT8_MODEL).is_file():
            return INT8_MODEL
        logger.warning("onnx detector: %s is missing; using the fp32 %s", INT8_MODEL, DEFAULT_MODEL)
    return DEFAULT_MODEL


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_model(model: str, models_dir: Path | None) -> tuple[Path, str | None]:
    """The model file to open and its expected sha256 (None for a user's own file).

    A bare name is looked up in the models folder first (the user's files win), then
    among the bundled weights; a path is taken as given."""
    name = (model or DEFAULT_MODEL).strip()
    if name in RENAMED and not (models_dir is not None and (Path(models_dir) / name).is_file()):
        name = RENAMED[name]
    candidate = Path(name).expanduser()
    if candidate.is_absolute() or len(candidate.parts) > 1:
        if candidate.is_file():
            return candidate, None
        raise DetectorError(f"ONNX model {str(candidate)!r} does not exist")
    if models_dir is not None and (Path(models_dir) / name).is_file():
        path = Path(models_dir) / name
        return path, imported_checksum(path)
    if (WEIGHTS_DIR / name).is_file():
        return WEIGHTS_DIR / name, BUNDLED_SHA256.get(name)
    where = f"{models_dir} (MODELS_DIR)" if models_dir is not None else "the models folder (MODELS_DIR)"
    raise DetectorError(f"ONNX model {name!r} not found: put it in {where}, or use the bundled {DEFAULT_MODEL!r}")


def checksum_path(model: Path) -> Path:
    """Where manage.py import_model records a model's sha256: <model>.sha256 beside it."""
    return model.with_name(model.name + ".sha256")


def imported_checksum(path: Path) -> str | None:
    """The sha256 recorded beside a user's model, if any."""
    try:
        text = checksum_path(path).read_text()
    except OSError:
        return None
    digest = text.split()[0] if text.split() else ""
    return digest.lower() if len(digest) == 64 else None


def _cuda_device_count() -> int:
    """How many CUDA devices the driver reports, without importing torch."""
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return 0
    for name in ("libcuda.so.1", "libcuda.so"):
        try:
            cuda = ctypes.CDLL(name)
        except OSError:
            continue
        count = ctypes.c_int(0)
        if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return count.value
    return 0


@detectors.register("onnx")
class OnnxDetector(Detector):
    """Options: ``model`` (file name in the models folder or bundled, or a path; None: the
    bundled CenterNet at ``precision``), ``precision`` ('int8' or 'fp32', for the bundled
    model on the CPU), ``input_size`` (square input side in pixels, a multiple of 32, for a
    model whose input size is not fixed; None: 512 for NHWC models, 640 for NCHW),
    ``models_dir``, ``device`` ('cpu' or 'cuda:N'), ``tensorrt`` (try TensorRT before CUDA),
    ``threads`` (onnxruntime intra-op threads, 0 = its default), ``spinning`` (let idle
    onnxruntime threads spin for work; off by default, see ``_load``), ``labels`` (class names in
    model order; COCO-80 by default), plus the base options."""

    def __init__(
        self,
        *,
        model: str | None = None,
        precision: str = "int8",
        input_size: int | None = None,
        models_dir: Path | str | None = None,
        device: str = "cpu",
        tensorrt: bool = False,
        threads: int = 0,
        spinning: bool = False,
        labels: tuple[str, ...] | list[str] | None = None,
        nms_iou: float = NMS_IOU,
        **options,
    ):
        super().__init__(**options)
        if precision not in PRECISIONS:
            raise DetectorError(f"precision={precision!r} is not one of {', '.join(PRECISIONS)}")
        if input_size is not None and input_size not in INPUT_SIZES:
            raise DetectorError(f"input_size={input_size!r} is not a multiple of 32 between 128 and 1280")
        self.model = model or None
        self.precision = precision
        self.requested_input_size = input_size
        self.models_dir = Path(models_dir) if models_dir else None
        self.requested_device = device or "cpu"
        self.tensorrt = bool(tensorrt)
        self.threads = int(threads)
        self.spinning = bool(spinning)
        # None: the class names the model file carries (ultralytics exports write them), else COCO-80.
        self.requested_labels = tuple(labels) if labels else None
        self.labels = self.requested_labels or COCO_CLASSES
        self.nms_iou = float(nms_iou)
        self.device = "cpu"
        self.model_path: Path | None = None
        self.providers: list[str] = []
        self._session: Any = None  # an onnxruntime.InferenceSession once loaded

    # --- loading ------------------------------------------------------------------
    def _load(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise DetectorError("onnxruntime is not installed: pip install -r requirements/cpu.txt") from e

        self.device = select_device(self.requested_device, cuda_count=_cuda_device_count, backend="onnx")
        name = self.model or bundled_model(self.precision, self.device)
        path, expected = resolve_model(name, self.models_dir)
        if expected is not None and sha256_of(path) != expected:
            fix = "restore it with git checkout" if path.parent == WEIGHTS_DIR else "import it again"
            raise DetectorError(f"{path} is damaged (its sha256 differs from the one recorded); {fix}")
        providers: list = []
        if self.device.startswith("cuda"):
            index = int(self.device.split(":")[1])
            available = ort.get_available_providers()
            if self.tensorrt and "TensorrtExecutionProvider" in available:
                providers.append(("TensorrtExecutionProvider", {"device_id": index}))
            providers.append(("CUDAExecutionProvider", {"device_id": index}))
        providers.append("CPUExecutionProvider")

        session_options = ort.SessionOptions()
        if self.threads > 0:
            session_options.intra_op_num_threads = self.threads
        session_options.log_severity_level = 3  # onnxruntime's own warnings are noise here
        if not self.spinning:
            # onnxruntime's worker threads spin for work between calls by default: fine on a
            # machine of its own, but here the cores are shared with video decoding (capture
            # processes; analysis's decoder thread), which the spinning starves (bench/README.md,
            # "Fourth session: any input size, ...").
            session_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session_options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), sess_options=session_options, providers=providers)
        except Exception as e:  # onnxruntime raises its own exception types
            raise DetectorError(f"{path.name} cannot be loaded by onnxruntime: {e}".splitlines()[0]) from e
        self.providers = session.get_providers()
        if self.device != "cpu" and "CUDAExecutionProvider" not in self.providers:
            logger.warning("onnx detector: CUDA provider failed to start on %s; running on the CPU", self.device)
            self.device = "cpu"
        self._session = session
        self.model_path = path
        self._read_layout(session)
        logger.info("%s", self.describe())

    def _read_layout(self, session) -> None:
        if self.model_path is None:
            raise DetectorError("the model is not loaded")  # _load sets model_path just before
        inp = session.get_inputs()[0]
        shape = list(inp.shape)
        if len(shape) != 4:
            raise DetectorError(f"{self.model_path.name}: expected a 4-D image input, got shape {shape}")
        self.input_name = inp.name
        if shape[3] == 3:
            self.channels_last = True
            side = self.requested_input_size or 512
            self.input_size = (_fixed(shape[2], side), _fixed(shape[1], side))  # width, height
        elif shape[1] == 3:
            self.channels_last = False
            # A dynamic input: the size the model was exported for (ultralytics records it), else 640.
            side = self.requested_input_size or model_input_size(session) or 640
            self.input_size = (_fixed(shape[3], side), _fixed(shape[2], side))
        else:
            raise DetectorError(f"{self.model_path.name}: cannot tell the channel axis of input shape {shape}")
        if self.requested_input_size and self.input_size != (self.requested_input_size,) * 2:
            logger.warning(
                "onnx detector: %s takes %dx%d images only; input_size=%d is ignored",
                self.model_path.name,
                *self.input_size,
                self.requested_input_size,
            )
        self.fixed_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None

        self.output_name = None
        for out in session.get_outputs():
            oshape = list(out.shape)
            if len(oshape) == 3 and oshape[2] == 6:
                self.output_name, self.output_layout = out.name, "detections"
                break
        else:
            first = session.get_outputs()[0]
            oshape = list(first.shape)
            if len(oshape) == 3:
                self.output_name, self.output_layout = first.name, "yolo"
        if self.output_name is None:
            raise DetectorError(f"{self.model_path.name}: no output in a known layout (see detection/backends/onnx.py)")
        if self.requested_labels is None:
            self.labels = model_labels(session) or COCO_CLASSES
        if self.output_layout == "yolo":
            classes = _yolo_class_count(oshape)
            if classes is not None and classes != len(self.labels):
                raise DetectorError(
                    f"{self.model_path.name}: its output has {classes} classes, but {len(self.labels)} class names "
                    "are known for it (an ultralytics export carries its names)"
                )

    def describe(self) -> str:
        if self.model_path is None:
            return f"onnx detector: {self.model or DEFAULT_MODEL} (not loaded)"
        width, height = self.input_size
        return (
            f"onnx detector: {self.model_path.name} on {self.device} ({', '.join(self.providers)}), "
            f"input {width}x{height}, batch {'1 at a time' if self.fixed_batch == 1 else 'dynamic'}"
        )

    def close(self) -> None:
        self._session = None
        super().close()

    # --- inference ----------------------------------------------------------------
    def _prepare(self, image: np.ndarray) -> np.ndarray:
        resized = cv2.resize(image, self.input_size, interpolation=cv2.INTER_LINEAR)
        rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32)
        if self.channels_last:
            return rgb  # raw 0..255, as the bundled model was trained
        return np.transpose(rgb, (2, 0, 1)) / 255.0

    def _detect_batch(self, images: list[np.ndarray]) -> list[list[Detection]]:
        tensors = [self._prepare(image) for image in images]
        if self.fixed_batch == 1:
            outputs = [self._session.run([self.output_name], {self.input_name: t[None]})[0][0] for t in tensors]
        else:
            stacked = np.stack(tensors)
            outputs = list(self._session.run([self.output_name], {self.input_name: stacked})[0])
        return [self._decode(raw) for raw in outputs]

    def _decode(self, raw: np.ndarray) -> list[Detection]:
        if self.output_layout == "detections":
            boxes, scores, classes = decode_detections(raw, self.confidence)
        else:
            boxes, scores, classes = decode_yolo(raw, self.confidence)
        keep = class_wise_nms(boxes, scores, classes, self.nms_iou)
        width, height = self.input_size
        found = []
        for i in keep:
            cls = int(classes[i])
            if not 0 <= cls < len(self.labels):
                continue
            x1, y1, x2, y2 = boxes[i]
            box = (
                _unit(x1 / width),
                _unit(y1 / height),
                _unit(x2 / width),
                _unit(y2 / height),
            )
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            found.append(Detection(self.labels[cls], round(float(scores[i]), 4), box))
        return found


def decode_detections(raw: np.ndarray, min_score: float):
    """(K, 6) rows x1, y1, x2, y2, score, class -> boxes, scores, classes above min_score."""
    raw = np.asarray(raw, dtype=np.float32).reshape(-1, 6)
    rows = raw[raw[:, 4] >= min_score]
    return rows[:, :4], rows[:, 4], rows[:, 5].astype(np.int64)


def model_labels(session) -> tuple[str, ...] | None:
    """The class names an ONNX file carries in its metadata ("names": "{0: 'person', ...}", as
    ultralytics writes them), in class order; None when it carries none readable."""
    import ast

    text = session.get_modelmeta().custom_metadata_map.get("names")
    if not text:
        return None
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    if isinstance(names, dict) and sorted(names) == list(range(len(names))):
        return tuple(str(names[i]) for i in range(len(names)))
    if isinstance(names, list | tuple) and all(isinstance(n, str) for n in names):
        return tuple(names)
    return None


def model_input_size(session) -> int | None:
    """The square input size an ONNX file's metadata records ("imgsz": "[640, 640]")."""
    import ast

    text = session.get_modelmeta().custom_metadata_map.get("imgsz")
    try:
        size = ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError):
        return None
    if isinstance(size, list | tuple) and len(size) == 2 and size[0] == size[1] and size[0] in INPUT_SIZES:
        return int(size[0])
    return None


def _yolo_class_count(shape: list) -> int | None:
    """Classes of a (batch, 4 + C, anchors) output, when its sizes are fixed."""
    sizes = [s for s in shape[1:] if isinstance(s, int)]
    if len(sizes) != 2:
        return None
    return min(sizes) - 4


def decode_yolo(raw: np.ndarray, min_score: float):
    """(4 + C, N) columns cx, cy, w, h, C class scores -> boxes x1y1x2y2, scores, classes."""
    raw = np.asarray(raw, dtype=np.float32)
    if raw.shape[0] > raw.shape[1]:  # some exports put anchors first
        raw = raw.T
    scores_all = raw[4:]
    classes = scores_all.argmax(axis=0)
    scores = scores_all[classes, np.arange(scores_all.shape[1])]
    mask = scores >= min_score
    cx, cy, w, h = raw[:4, mask]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, scores[mask], classes[mask].astype(np.int64)


def _fixed(value, default: int) -> int:
    return value if isinstance(value, int) and value > 0 else default


def _unit(value) -> float:
    return round(min(1.0, max(0.0, float(value))), 5)
