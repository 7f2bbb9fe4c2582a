"""The COCO-80 object classes, in the order COCO-trained detectors number them."""

COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

COCO_CLASS_SET = frozenset(COCO_CLASSES)

# What a security team wants detected when it has not said otherwise.
DEFAULT_CLASSES: tuple[str, ...] = ("person", "bicycle", "car", "motorcycle", "bus", "truck")


def validate_labels(labels) -> list[str]:
    """Return the labels as a clean list, or raise ValueError naming the unknown ones."""
    if not isinstance(labels, (list, tuple)) or not all(isinstance(x, str) for x in labels):
        raise ValueError("Give the classes as a list of names.")
    unknown = [x for x in labels if x not in COCO_CLASS_SET]
    if unknown:
        raise ValueError(f"Unknown class(es): {', '.join(unknown)}. Use COCO-80 names such as person, car, dog.")
    # Keep the caller's order but drop repeats.
    return list(dict.fromkeys(labels))


def label_color(label: str) -> str:
    """A stable colour per class, the same on every page."""
    fixed = {"person": "#e53935", "car": "#1e88e5", "truck": "#3949ab", "bicycle": "#43a047", "bus": "#8e24aa"}
    if label in fixed:
        return fixed[label]
    hue = 0
    for ch in label:  # the same hash as static/ainvr/live.js, so both pages agree
        hue = (hue * 31 + ord(ch)) % 360
    return f"hsl({hue}, 70%, 50%)"
