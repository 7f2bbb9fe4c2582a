#!/usr/bin/python3
"""A real RTSP server for tests and benchmarks: Debian's gst-rtsp-server through PyGObject.

Runs under the system python (/usr/bin/python3, where `gi` lives), stdlib + gi only; the
test venv starts it through tests.rtsp.RtspServer. Listens on 127.0.0.1 only, prints exactly
one line `READY <port>` on stdout once it accepts connections, then serves until SIGTERM or
SIGINT (exit 0).

Mounts are PATH[:CODEC], CODEC one of h264, h265, h264+aac, h265+aac (default --codec):

    rtsp_server.py --port 0 --mount /h264:h264 --mount /h265:h265 --mount /audio:h264+aac

Every mount is a shared factory: all its clients share one pipeline and one encoder, which
starts with the first client and stops when the last one leaves. The video is a live
videotestsrc (a moving pattern, so frames differ; the default scrolling SMPTE bars encode to
about --bitrate, like a camera), or with --pattern clock grey frames that carry, in blocks,
the wall clock at which each was made (frame_clock.py: glass-to-glass latency is measurable
from the pixels a viewer shows), or with --clip an MP4 whose video (and, for +aac, audio) is
sent as is in real time; the client sees EOF at its end.

Exit codes: 0 stopped by a signal or (with --stop-on-stdin-eof) by the parent closing stdin,
2 bad arguments or a missing GStreamer element, 3 the port could not be bound.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
import frame_clock  # noqa: E402  (this script's folder is on sys.path)
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

EXIT_USAGE = 2
EXIT_BIND = 3
CODECS = ("h264", "h265", "h264+aac", "h265+aac")
AAC_ENCODERS = ("avenc_aac", "voaacenc")  # gstreamer1.0-libav, gstreamer1.0-plugins-bad


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 for any free one (default 0)")
    parser.add_argument(
        "--mount",
        action="append",
        metavar="PATH[:CODEC]",
        help=f"a mount point, repeatable; CODEC one of {', '.join(CODECS)} (default /stream)",
    )
    parser.add_argument("--codec", choices=CODECS, default="h264", help="codec of mounts that name none")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--gop", type=int, default=0, help="keyframe interval in frames (default fps*2)")
    parser.add_argument("--bitrate", type=int, default=2000, help="video bitrate in kbit/s (default 2000)")
    parser.add_argument(
        "--pattern",
        default="smpte",
        help="videotestsrc pattern (default smpte, scrolling; ball: tiny frames), or clock: the wall clock in blocks",
    )
    parser.add_argument("--clip", help="serve this MP4 (H.264/H.265 video, AAC audio) instead of videotestsrc")
    parser.add_argument(
        "--stop-on-stdin-eof",
        action="store_true",
        help="exit when stdin closes, so the server never outlives the process that started it",
    )
    args = parser.parse_args(argv)
    args.mounts = []
    for spec in args.mount or ["/stream"]:
        path, _, codec = spec.partition(":")
        codec = codec or args.codec
        if not path.startswith("/") or codec not in CODECS:
            parser.error(f"bad --mount {spec!r}: expected /PATH or /PATH:CODEC with CODEC one of {', '.join(CODECS)}")
        args.mounts.append((path, codec))
    if len({path for path, _ in args.mounts}) != len(args.mounts):
        parser.error("two --mount options name the same path")
    if args.gop <= 0:
        args.gop = args.fps * 2
    if min(args.width, args.height, args.fps, args.bitrate) <= 0:
        parser.error("--width, --height, --fps and --bitrate must be positive")
    return args


def video_encoder(video_codec: str, args: argparse.Namespace) -> str:
    """Encoder and payloader (pay0): no B-frames, a keyframe exactly every --gop frames."""
    gop = args.gop
    if video_codec == "h265":
        options = f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1"
        return (
            f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={args.bitrate} "
            f'option-string="{options}" ! video/x-h265,profile=main ! rtph265pay name=pay0 pt=96 config-interval=-1'
        )
    # sliced-threads=false: with sliced threads FFmpeg's RTSP demuxer splits each keyframe in two packets.
    # x264's frame threads then hold each frame back one frame per thread (3 threads on 2 vCPUs: 200 ms
    # at 15 fps), which a camera's encoder does not: the clock, which measures latency, encodes on one.
    threads = "threads=1 " if args.pattern == "clock" else ""
    return (
        f"x264enc {threads}tune=zerolatency speed-preset=ultrafast sliced-threads=false key-int-max={gop} "
        f'bitrate={args.bitrate} option-string="scenecut=0" ! video/x-h264,profile=baseline '
        "! rtph264pay name=pay0 pt=96 config-interval=-1"
    )


def launch_line(codec: str, args: argparse.Namespace, aac_encoder: str) -> str:
    video_codec, _, audio = codec.partition("+")
    if args.clip:
        location = args.clip.replace("\\", "\\\\").replace('"', '\\"')
        parts = [
            f'filesrc location="{location}" ! qtdemux name=demux',
            # The parser, not the payloader, repeats SPS/PPS: rtph264pay config-interval=-1 on the MP4's
            # avc stream makes FFmpeg's demuxer split every keyframe into two packets with the same pts.
            f"demux.video_0 ! queue ! {video_codec}parse config-interval=-1 "
            f"! video/x-{video_codec},stream-format=byte-stream,alignment=au ! rtp{video_codec}pay name=pay0 pt=96",
        ]
        if audio:
            parts.append("demux.audio_0 ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97")
        return "( " + " ".join(parts) + " )"
    raw = f"video/x-raw,width={args.width},height={args.height},framerate={args.fps}/1,format=I420"
    if args.pattern == "clock":
        # Frames come from ClockFeeder; the buffers' timestamps are the pipeline's running time
        # when pushed, so the encoder and payloader see a live source as from videotestsrc.
        # A stalled encoder drops the oldest frames (leaky downstream): a queued frame's clock goes stale.
        source = (
            "appsrc name=clock is-live=true do-timestamp=true format=time max-buffers=2 leaky-type=downstream "
            f'caps="{raw}"'
        )
        parts = [source, f"! {video_encoder(video_codec, args)}"]
    else:
        motion = "" if args.pattern == "ball" else " horizontal-speed=4"
        parts = [
            f"videotestsrc is-live=true pattern={args.pattern}{motion}",
            f"! {raw}",
            f"! {video_encoder(video_codec, args)}",
        ]
    if audio:
        parts.append(
            "audiotestsrc is-live=true wave=sine freq=440 volume=0.2 ! audioconvert ! audioresample "
            f"! audio/x-raw,rate=48000,channels=1 ! {aac_encoder} ! rtpmp4gpay name=pay1 pt=97"
        )
    return "( " + " ".join(parts) + " )"


def needed_elements(args: argparse.Namespace) -> set[str]:
    names = set()
    for _, codec in args.mounts:
        video_codec, _, audio = codec.partition("+")
        names.add(f"rtp{video_codec}pay")
        if args.clip:
            names |= {"filesrc", "qtdemux", "queue", f"{video_codec}parse"}
        else:
            names |= {
                "appsrc" if args.pattern == "clock" else "videotestsrc",
                f"x{video_codec[1:]}enc",
            }  # x264enc, x265enc
        if audio:
            names.add("rtpmp4gpay")
            names |= {"aacparse"} if args.clip else {"audiotestsrc", "audioconvert", "audioresample"}
    return names


def refuse_seeking(_pad: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
    """Answer "not seekable" to seeking queries (the query's defaults), forward everything else.

    FFmpeg sends `Range: npt=0.000-` with PLAY; when the pipeline says it is seekable
    (videotestsrc does), gst-rtsp-server flush-seeks the SHARED pipeline for each new client:
    the encoder restarts and every client already watching jumps back to pts 0. A camera has
    no range to seek in.
    """
    query = info.get_query()
    if query is not None and query.type == Gst.QueryType.SEEKING:
        return Gst.PadProbeReturn.HANDLED
    return Gst.PadProbeReturn.OK


class ClockFeeder:
    """Pushes a frame painted with the wall clock (frame_clock.paint, Unix milliseconds taken
    just before the push, i.e. before encoding: the "glass") into a media's appsrc every 1/fps
    seconds from the GLib main loop, while the media plays; stop() ends it."""

    def __init__(self, appsrc: Gst.Element, args: argparse.Namespace) -> None:
        self.appsrc = appsrc
        self.width, self.height = args.width, args.height
        self.interval = 1 / args.fps
        self.duration = Gst.SECOND // args.fps
        self.frame = frame_clock.blank_i420(args.width, args.height)
        self.due = time.monotonic()
        self.source_id = GLib.timeout_add(0, self.tick)

    def tick(self) -> bool:
        """One frame, then the next timer: due times are absolute, so GLib's rounding to
        milliseconds does not drift the rate."""
        if time.monotonic() - self.due > self.interval:
            self.due = time.monotonic()  # a frozen or starved server skips frames rather than bursting them
        # Frames pushed before PLAYING would wait in the queue and reach viewers with an old clock.
        if self.appsrc.get_state(0)[1] == Gst.State.PLAYING:
            self.push()
        self.due += self.interval
        self.source_id = GLib.timeout_add(max(0, round((self.due - time.monotonic()) * 1000)), self.tick)
        return False

    def push(self) -> None:
        frame_clock.paint(self.frame, self.width, self.height, time.time_ns() // 1_000_000)
        buffer = Gst.Buffer.new_wrapped(bytes(self.frame))
        buffer.duration = self.duration
        self.appsrc.emit("push-buffer", buffer)  # FLUSHING while the media shuts down: nothing to do

    def stop(self, *_args: object) -> None:
        GLib.source_remove(self.source_id)


def on_media_configure(
    _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia, args: argparse.Namespace
) -> None:
    element = media.get_element()
    for index in range(2):
        pay = element.get_by_name(f"pay{index}")
        if pay is not None:
            pay.get_static_pad("src").add_probe(Gst.PadProbeType.QUERY_UPSTREAM, refuse_seeking)
    appsrc = element.get_by_name("clock")
    if appsrc is not None:
        # A shared media lives until its last client leaves; the next client gets a new one.
        media.connect("unprepared", ClockFeeder(appsrc, args).stop)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    Gst.init(None)
    missing = sorted(name for name in needed_elements(args) if not Gst.ElementFactory.find(name))
    aac_encoder = next((name for name in AAC_ENCODERS if Gst.ElementFactory.find(name)), None)
    if aac_encoder is None and not args.clip and any(codec.endswith("+aac") for _, codec in args.mounts):
        missing.append(" or ".join(AAC_ENCODERS))
    if missing:
        print(f"rtsp_server: missing GStreamer elements: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mount_points = server.get_mount_points()
    for path, codec in args.mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(codec, args, aac_encoder or ""))
        factory.set_shared(True)
        factory.connect("media-configure", on_media_configure, args)
        mount_points.add_factory(path, factory)

    try:
        attached = server.attach(None)
        error = "attach failed"
    except GLib.Error as exc:
        attached, error = 0, exc.message
    if not attached:
        print(f"rtsp_server: cannot listen on 127.0.0.1:{args.port}: {error}", file=sys.stderr)
        return EXIT_BIND

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, loop.quit)
    if args.stop_on_stdin_eof:
        # The parent never writes: stdin becoming readable means EOF (it closed the pipe or died).
        GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, stop, loop)

    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


def stop(_fd: int, _condition: GLib.IOCondition, loop: GLib.MainLoop) -> bool:
    loop.quit()
    return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
