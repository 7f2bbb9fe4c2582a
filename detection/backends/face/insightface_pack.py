"""InsightFace's FaceAnalysis (SCRFD detector + ArcFace recogniser) from a model pack the
user supplies, run on onnxruntime (CPU, or CUDA with onnxruntime-gpu).

Never the default: insightface is not installed with AINVR, and its published packs
(buffalo_l, buffalo_s, ...) are licensed for non-commercial research only and are never
downloaded by AINVR. Point ATTENDANCE_INSIGHTFACE_PACK at a folder holding the pack's
.onnx files (e.g. /models/insightface/buffalo_l).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np

from detection.backends.face.base import DetectedFace, FaceBackend, FaceBackendUnavailable, face_backends, normalised


@face_backends.register("insightface")
class InsightFaceBackend(FaceBackend):
    def __init__(
        self,
        *,
        pack_dir: str | Path | None = None,
        det_size: int = 640,
        score_threshold: float = 0.5,
        providers: list[str] | None = None,
        **_ignored,
    ):
        if not pack_dir:
            raise FaceBackendUnavailable(
                "face backend insightface: no model pack given; set ATTENDANCE_INSIGHTFACE_PACK to the folder "
                "of a pack you are licensed to use (insightface packs are non-commercial research only)"
            )
        pack = Path(pack_dir).expanduser().resolve()
        if not pack.is_dir() or not any(pack.glob("*.onnx")):
            raise FaceBackendUnavailable(f"face backend insightface: {pack} is not a folder of .onnx model files")
        try:
            from insightface.app import FaceAnalysis
        except ImportError:
            raise FaceBackendUnavailable(
                "face backend insightface: the insightface package is not installed (pip install insightface)"
            ) from None
        # FaceAnalysis looks for <root>/models/<name>/*.onnx and would download a missing pack:
        # give it the pack's parent layout exactly, and refuse before it tries.
        if pack.parent.name != "models":
            raise FaceBackendUnavailable(
                f"face backend insightface: put the pack at <root>/models/<name>/ (got {pack}); "
                "AINVR never lets insightface download one"
            )
        self._app = FaceAnalysis(
            name=pack.name,
            root=str(pack.parent.parent),
            allowed_modules=["detection", "recognition"],
            providers=providers or ["CPUExecutionProvider"],
        )
        self._app.prepare(ctx_id=-1 if not providers else 0, det_thresh=score_threshold, det_size=(det_size, det_size))
        recogniser = self._app.models.get("recognition")
        if recogniser is None:
            raise FaceBackendUnavailable(f"face backend insightface: {pack} holds no recognition model")
        self.model_name = f"insightface-{pack.name}"[:64]
        self.dimension = int(recogniser.output_shape[1])
        self._recogniser = recogniser

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        detector = self._app.models["detection"]
        boxes, kpss = detector.detect(image, max_num=0, metric="default")
        faces = []
        for index, row in enumerate(boxes if boxes is not None else []):
            landmarks = np.asarray(kpss[index], dtype=np.float32) if kpss is not None else np.zeros((5, 2), np.float32)
            faces.append(
                DetectedFace(
                    box=cast("tuple[float, float, float, float]", tuple(float(v) for v in row[:4])),
                    score=float(row[4]),
                    landmarks=landmarks,
                )
            )
        faces.sort(key=lambda face: face.score, reverse=True)
        return faces

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        from insightface.utils import face_align

        aligned = face_align.norm_crop(image, landmark=face.landmarks, image_size=self._recogniser.input_size[0])
        return normalised(self._recogniser.get_feat(aligned))
