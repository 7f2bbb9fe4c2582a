"""Face recognition benchmark: speed per backend on this CPU, 1:N match time by roster
size, and acceptance / false acceptance on the offline test photos.

    python -m bench.faces [--repeat 20] [--threshold 0.40] [--insightface-pack DIR] [--threads N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time

import numpy as np

DEFAULT_THRESHOLD = 0.40  # settings.ATTENDANCE_MATCH_THRESHOLD's default
ROSTERS = (1_000, 10_000, 100_000)


def timed(fn, repeat: int) -> float:
    """Median milliseconds of `repeat` calls (after one warm-up call)."""
    return timed_range(fn, repeat)[0]


def timed_range(fn, repeat: int) -> tuple[float, float]:
    """(median, fastest) milliseconds of `repeat` calls after a warm-up: on a shared machine
    the fastest run is the uncontended cost, the median what neighbours leave."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples)


def bench_backend(backend, repeat: int) -> dict:
    from tests.attendance.faces import PEOPLE, on_canvas, photo

    frames = [on_canvas(photo(name), scale=0.6) for name in PEOPLE]  # a 640x480 camera frame each
    detect_ms, embed_ms = [], []
    for frame in frames:
        faces = backend.detect(frame)
        if len(faces) != 1:
            raise SystemExit(f"{backend.name}: a bench frame should hold one face, found {len(faces)}")
        detect_ms.append(timed_range(lambda f=frame: backend.detect(f), repeat))
        embed_ms.append(timed_range(lambda f=frame, face=faces[0]: backend.embed(f, face), repeat))
    result = {}
    for label, pick in (("median", 0), ("best", 1)):
        detect = statistics.median(m[pick] for m in detect_ms)
        embed = statistics.median(m[pick] for m in embed_ms)
        result[label] = {"detect_ms": detect, "embed_ms": embed, "total_ms": detect + embed}
    return result


def bench_matcher(repeat: int, threshold: float) -> list[dict]:
    from attendance.recognition.matcher import TemplateMatrix

    rng = np.random.default_rng(0)
    results = []
    for size in ROSTERS:
        vectors = rng.standard_normal((size, 128)).astype(np.float32)
        matrix = TemplateMatrix(vectors, np.arange(size) // 5, threshold=threshold)
        one = np.ascontiguousarray(matrix.vectors[size // 2][None, :])
        batch = np.ascontiguousarray(matrix.vectors[:8])
        results.append(
            {
                "templates": size,
                "one_face_ms": timed_range(lambda m=matrix, q=one: m.match(q), repeat),
                "eight_faces_ms": timed_range(lambda m=matrix, q=batch: m.match(q), repeat),
                "matrix_mb": matrix.columns.nbytes / 2**20,
            }
        )
    return results


def bench_accuracy(backend, threshold: float) -> dict:
    from tests.attendance.faces import PEOPLE, photo, variants

    vectors = {}
    for name in PEOPLE:
        shots = [photo(name), *variants(photo(name))]
        vectors[name] = []
        for shot in shots:
            faces = backend.detect(shot)
            if len(faces) == 1:
                vectors[name].append(backend.embed(shot, faces[0]))
    genuine = [float(a @ b) for own in vectors.values() for a, b in itertools.combinations(own, 2)]
    impostor = [float(x @ y) for a, b in itertools.combinations(vectors, 2) for x in vectors[a] for y in vectors[b]]
    return {
        "people": len(vectors),
        "genuine_pairs": len(genuine),
        "impostor_pairs": len(impostor),
        "acceptance": sum(s >= threshold for s in genuine) / len(genuine),
        "false_acceptance": sum(s >= threshold for s in impostor) / len(impostor),
        "genuine_min": min(genuine),
        "impostor_max": max(impostor),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faces", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--insightface-pack", default=None, help="also bench insightface with this model pack")
    parser.add_argument("--threads", type=int, default=None, help="OpenCV threads (default: OpenCV's choice)")
    args = parser.parse_args(argv)

    from detection.backends.face import FaceBackendUnavailable, get_face_backend

    backends = [("opencv-sface", {"threads": args.threads})]
    if args.insightface_pack:
        backends.append(("insightface", {"pack_dir": args.insightface_pack}))
    print(f"threshold {args.threshold:.2f}; medians of {args.repeat} runs after a warm-up")
    print("\n## Backends (one 640x480 frame, one face)")
    for name, options in backends:
        try:
            backend = get_face_backend(name, **options)
        except FaceBackendUnavailable as e:
            print(f"{name}: not run: {e}")
            continue
        speed = bench_backend(backend, args.repeat)
        for label, figures in speed.items():
            print(
                f"{name} ({label}): detect {figures['detect_ms']:.1f} ms/frame, "
                f"embed {figures['embed_ms']:.1f} ms/face, "
                f"detect+embed {figures['total_ms']:.1f} ms = {1000 / figures['total_ms']:.1f} faces/s"
            )
        quality = bench_accuracy(backend, args.threshold)
        print(
            f"{name}: {quality['people']} people, {quality['genuine_pairs']} same-person pairs, "
            f"{quality['impostor_pairs']} different-people pairs: acceptance {quality['acceptance']:.3f} "
            f"(lowest {quality['genuine_min']:.2f}), false acceptance {quality['false_acceptance']:.3f} "
            f"(highest {quality['impostor_max']:.2f})"
        )
    print("\n## 1:N matcher (128-d, float32, one matrix product)")
    for row in bench_matcher(args.repeat, args.threshold):
        print(
            f"{row['templates']:>7} templates ({row['matrix_mb']:.0f} MB): "
            f"1 face {row['one_face_ms'][0]:.2f} ms median / {row['one_face_ms'][1]:.2f} ms best, "
            f"8 faces {row['eight_faces_ms'][0]:.2f} / {row['eight_faces_ms'][1]:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
