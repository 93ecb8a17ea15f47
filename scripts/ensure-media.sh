#!/usr/bin/env bash
# Media (宣讲视频/音频) need Debian's ffmpeg (ffprobe for duration and streams, ffmpeg for the
# poster frame and subtitle streams; the tests make their small media with it). The corpus tool
# speaks the sample recording's script with espeak-ng (its test renders a short one). Install
# them when missing (we are root on CI and dev machines); without root, those tests skip.
set -u
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 \
  && command -v espeak-ng >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian ffmpeg and espeak-ng for media (video/audio) and their tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends ffmpeg espeak-ng >/dev/null \
    || echo "warning: could not install ffmpeg/espeak-ng; media tests will be skipped" >&2
else
  echo "warning: ffmpeg not found and not root; media tests will be skipped" >&2
fi
exit 0
