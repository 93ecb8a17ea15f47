#!/usr/bin/env bash
# Media (宣讲视频/音频) need Debian's ffmpeg (ffprobe for duration and streams, ffmpeg for the
# poster frame and subtitle streams; the tests make their small media with it). Install it when
# missing (we are root on CI and dev machines); without root, the media tests skip with a message.
set -u
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian ffmpeg for media (video/audio) and its tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends ffmpeg >/dev/null \
    || echo "warning: could not install ffmpeg; media tests will be skipped" >&2
else
  echo "warning: ffmpeg not found and not root; media tests will be skipped" >&2
fi
exit 0
