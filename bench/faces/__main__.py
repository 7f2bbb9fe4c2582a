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


def framed_photos(backend) -> dict[str, np.ndarray]:
    """Each offline photo with one face, framed the way a camera sees a person (face about
    100 px) on a 640x480 frame."""
    from tests.attendance.faces import OTHER_PERSON, SAME_PERSON, head_and_shoulders, on_canvas, real_photo

    frames = {}
    for name in (*SAME_PERSON, OTHER_PERSON):
        image = real_photo(name)
        (face,) = backend.detect(image)
        frames[name] = on_canvas(head_and_shoulders(image, face.box), at=(190, 80), scale=1.0)
    return frames


def bench_backend(backend, repeat: int) -> dict:
    frames = list(framed_photos(backend).values())
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


def match_before(columns: np.ndarray, employee_ids: np.ndarray, queries: np.ndarray, threshold: float) -> list:
    """TemplateMatrix.match as it was before issue 6's second pass (a new result array per
    call, BLAS on all its threads): the baseline the ratios compare against."""
    similarities = queries @ columns
    best = similarities.argmax(axis=1)
    scores = similarities[np.arange(len(queries)), best]
    return [(int(employee_ids[r]) if s >= threshold else None, float(s)) for r, s in zip(best, scores, strict=True)]


def interleaved(variants: dict, repeat: int, set_threads) -> dict:
    """Time each variant `repeat` times, taking turns call by call so that all of them see
    the same load from neighbours: {name: (median, fastest, 90th percentile)} in ms."""
    samples = {name: [] for name in variants}
    for fn, threads in variants.values():  # warm-up
        set_threads(threads)
        fn()
    for i in range(repeat):
        names = list(variants)
        for name in names[i % len(names) :] + names[: i % len(names)]:
            fn, threads = variants[name]
            set_threads(threads)
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: (statistics.median(s), min(s), sorted(s)[int(0.9 * (len(s) - 1))]) for name, s in samples.items()}


def bench_matcher(repeat: int, threshold: float) -> list[dict]:
    from threadpoolctl import ThreadpoolController

    from attendance.recognition.matcher import TemplateMatrix

    blas = ThreadpoolController().select(user_api="blas")
    default_threads = max([lib["num_threads"] for lib in blas.info()] or [1])

    def set_threads(count: int) -> None:
        blas.limit(limits=count)  # sets the library's count; restored at the end

    rng = np.random.default_rng(0)
    results = []
    try:
        for size in ROSTERS:
            vectors = rng.standard_normal((size, 128)).astype(np.float32)
            matrix = TemplateMatrix(vectors, np.arange(size) // 5, threshold=threshold)
            one = np.ascontiguousarray(matrix.vectors[size // 2][None, :])
            batch = np.ascontiguousarray(matrix.vectors[:8])
            row = {"templates": size, "matrix_mb": matrix.columns.nbytes / 2**20, "blas_threads": default_threads}
            for label, queries in (("one", one), ("eight", batch)):
                if [m.employee_id for m in matrix.match(queries)] != [
                    e for e, _ in match_before(matrix.columns, matrix.employee_ids, queries, threshold)
                ]:
                    raise SystemExit("the matcher and the baseline disagree")
                row[label] = interleaved(
                    {
                        "before": (
                            lambda q=queries, m=matrix: match_before(m.columns, m.employee_ids, q, threshold),
                            default_threads,
                        ),
                        "buffer": (lambda q=queries, m=matrix: m.match(q), default_threads),
                        "after": (lambda q=queries, m=matrix: m.match(q), 1),
                    },
                    repeat,
                    set_threads,
                )
            results.append(row)
    finally:
        set_threads(default_threads)
    return results


def embeddings(backend, image: np.ndarray) -> list[np.ndarray]:
    return [backend.embed(image, face) for face in backend.detect(image)]


def bench_accuracy(backend, threshold: float) -> dict:
    """Same-person and different-people similarities on the offline photos.

    Identities: him (three real photos: obama, obama2, obama3), biden, the six people of
    t1.jpg and the demo camera's three: 11 people, 13 faces. Each face is also seen the way
    a camera would differ from the enrolment photo (`variants`: mirror, 0.6x, darker, 8
    degrees turn, JPEG 35); same-person pairs only count across DIFFERENT photos (a photo
    against its own variant proves nothing about recognising a person)."""
    from tests.attendance.faces import (
        GROUP_OF_SIX,
        OTHER_PERSON,
        PEOPLE,
        SAME_PERSON,
        head_and_shoulders,
        photo,
        real_photo,
        variants,
    )

    sources = [("obama", name, real_photo(name)) for name in SAME_PERSON]
    sources.append(("biden", OTHER_PERSON, real_photo(OTHER_PERSON)))
    sources += [(name, name, photo(name)) for name in PEOPLE]
    group = real_photo(GROUP_OF_SIX)
    group_faces = backend.detect(group)
    sources += [(f"t1-{i}", f"t1-{i}", head_and_shoulders(group, face.box)) for i, face in enumerate(group_faces)]
    plain, shots = [], []  # (person, photo, vector)
    for person, source, image in sources:
        for k, shot in enumerate([image, *variants(image)]):
            found = embeddings(backend, shot)
            if len(found) == 1:
                shots.append((person, source, found[0]))
                if k == 0:
                    plain.append((person, source, found[0]))

    def rates(items):
        genuine, impostor = [], []
        for (pa, sa, va), (pb, sb, vb) in itertools.combinations(items, 2):
            if pa == pb and sa != sb:
                genuine.append(float(va @ vb))
            elif pa != pb:
                impostor.append(float(va @ vb))
        return {
            "genuine_pairs": len(genuine),
            "impostor_pairs": len(impostor),
            "acceptance": sum(s >= threshold for s in genuine) / len(genuine),
            "false_acceptance": sum(s >= threshold for s in impostor) / len(impostor),
            "genuine_min": min(genuine),
            "genuine_median": statistics.median(genuine),
            "impostor_max": max(impostor),
            "impostor_p99": sorted(impostor)[int(0.99 * (len(impostor) - 1))],
        }

    return {
        "people": len({person for person, _, _ in plain}),
        "faces": len(plain),
        "group_faces": len(group_faces),
        "shots": len(shots),
        "missed_shots": len(sources) * 6 - len(shots),
        "photos": rates(plain),
        "with_variants": rates(shots),
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
    import os

    print(
        f"threshold {args.threshold:.2f}; {args.repeat} runs after a warm-up; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"
    )
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
            f"{name}: {quality['people']} people, {quality['faces']} faces "
            f"(t1.jpg: {quality['group_faces']} of 6 found); {quality['shots']} shots with variants "
            f"({quality['missed_shots']} without exactly one face found)"
        )
        for label in ("photos", "with_variants"):
            q = quality[label]
            print(
                f"  {label}: {q['genuine_pairs']} same-person pairs across different photos: acceptance "
                f"{q['acceptance']:.3f} (lowest {q['genuine_min']:.2f}, median {q['genuine_median']:.2f}); "
                f"{q['impostor_pairs']} different-people pairs: false acceptance {q['false_acceptance']:.4f} "
                f"(highest {q['impostor_max']:.2f}, 99th percentile {q['impostor_p99']:.2f})"
            )
    print(
        "\n## 1:N matcher (128-d float32, one matrix product; runs interleaved call by call)\n"
        "before: new result array per call, default BLAS threads; buffer: reused result array; "
        "after: reused array + 1 BLAS thread (the worker's setting). ms median / best / p90"
    )
    for row in bench_matcher(args.repeat, args.threshold):
        for label, faces in (("one", 1), ("eight", 8)):
            t = row[label]
            cells = ", ".join(f"{n} {t[n][0]:.2f}/{t[n][1]:.2f}/{t[n][2]:.2f}" for n in ("before", "buffer", "after"))
            ratio = t["before"][0] / t["after"][0]
            print(
                f"{row['templates']:>7} templates ({row['matrix_mb']:.0f} MB), {faces} face(s): {cells}; "
                f"median before/after x{ratio:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
