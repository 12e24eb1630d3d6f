#!/usr/bin/env bash
# Makes the demo's evidence media: one short clip and one screenshot per violation kind, a
# three-minute recording to skim as a contact sheet, and the verification scans and
# onboarding photos. Clips and the recording are H.264 MP4 (constrained baseline, which the
# server decodes with its built-in openh264, no system package); the voices clip is VP9
# WebM, as browsers' recorders make, so the server's ffmpeg path has something to draw. Run once by hand after changing it;
# the build and the tests only read the files it wrote (committed beside it).
# Needs Debian's ffmpeg, imagemagick and fonts-dejavu-core.
set -euo pipefail
cd "$(dirname "$0")"
CONVERT=${CONVERT:-$(command -v convert)}
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
MONO=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
mkdir -p clips shots scans

# kind|label shown at the flagged moment|colour of the thing that is flagged
KINDS=(
  "second_person|SECOND PERSON IN ROOM|0xd08040"
  "no_face|NO FACE DETECTED|0x404040"
  "looking_away|LOOKING AWAY|0xc0a060"
  "phone|PHONE DETECTED|0x3070e0"
  "tab_switch|SWITCHED BROWSER TAB|0x30a0a0"
  "copy_paste|COPY / PASTE|0x9050c0"
  "second_monitor|SECOND MONITOR|0x50a050"
  "left_room|LEFT THE ROOM|0x606060"
  "voices|VOICES DETECTED|0xc05080"
  "unauthorized_app|UNAUTHORIZED APPLICATION|0xa07030"
)

# Each clip is 12 s; the flagged moment is 4 s to 9 s into it (the demo's segments start
# 4 s before a violation), marked by a red frame and the label. The thing flagged moves, so
# playing the moment frame by frame shows motion.
H264=(-c:v libx264 -profile:v baseline -preset slow -crf 33 -g 30 -pix_fmt yuv420p -movflags +faststart -an)
VP9=(-c:v libvpx-vp9 -b:v 40k -crf 45 -deadline good -cpu-used 4 -row-mt 1 -pix_fmt yuv420p -an)
rm -f clips/*
for entry in "${KINDS[@]}"; do
  IFS='|' read -r kind label colour <<<"$entry"
  face="drawbox=x=130:y=40:w=60:h=80:color=0xe0b090:t=fill"
  case "$kind" in
    no_face|left_room) face="drawbox=x=130:y=40:w=60:h=80:color=0xe0b090:t=fill:enable='lt(t,4)+gt(t,9)'" ;;
    looking_away) face="drawbox=x=130:y=40:w=60:h=80:color=0xe0b090:t=fill,drawbox=x=170:y=60:w=12:h=6:color=black:t=fill:enable='between(t,4,9)'" ;;
  esac
  thing="drawbox=x='230+10*sin(t*3)':y=90:w=40:h=50:color=${colour}:t=fill:enable='between(t,4,9)'"
  if [ "$kind" = voices ]; then codec=("${VP9[@]}"); ext=webm; else codec=("${H264[@]}"); ext=mp4; fi
  ffmpeg -v error -y -f lavfi -i "color=c=0x22303c:s=320x180:r=10:d=12" -vf "\
drawbox=x=0:y=130:w=320:h=50:color=0x5a4030:t=fill,\
${face},${thing},\
drawbox=x=0:y=0:w=320:h=180:color=red:t=6:enable='between(t,4,9)',\
drawtext=fontfile=${FONT}:text='${label}':fontcolor=white:fontsize=14:x=(w-text_w)/2:y=150:enable='between(t,4,9)',\
drawtext=fontfile=${MONO}:text='REC %{pts\:hms}':fontcolor=0xff6060:fontsize=11:x=8:y=8" \
    "${codec[@]}" "clips/${kind}.${ext}"
  ffmpeg -v error -y -ss 6 -i "clips/${kind}.${ext}" -frames:v 1 -q:v 6 "shots/${kind}.jpg"
done

# The whole recording: three minutes at 5 frames a second. The learner shifts in their
# seat; a phone shows at 0:40, nobody is there at 1:40, a second person at 2:30.
ffmpeg -v error -y -f lavfi -i "color=c=0x22303c:s=320x180:r=5:d=180" -vf "\
drawbox=x=0:y=130:w=320:h=50:color=0x5a4030:t=fill,\
drawbox=x='130+8*sin(t/7)':y=40:w=60:h=80:color=0xe0b090:t=fill:enable='not(between(t,100,112))',\
drawbox=x=230:y=90:w=40:h=50:color=0x3070e0:t=fill:enable='between(t,40,48)',\
drawbox=x=40:y=30:w=50:h=90:color=0xd08040:t=fill:enable='between(t,150,158)',\
drawtext=fontfile=${MONO}:text='REC %{pts\:hms}':fontcolor=0xff6060:fontsize=11:x=8:y=8,\
drawtext=fontfile=${FONT}:text='FULL RECORDING':fontcolor=0xa0a0a0:fontsize=10:x=w-text_w-8:y=8" \
  "${H264[@]}" -crf 36 -g 50 recording.mp4

# Verification scans and onboarding photos.
face() { # out, background, skin, caption
  "$CONVERT" -size 240x240 "xc:$2" -fill "$3" -draw 'ellipse 120,110 55,72 0,360' \
    -fill '#3a2a20' -draw 'ellipse 120,58 58,30 180,360' \
    -fill black -draw 'circle 100,100 104,100' -draw 'circle 140,100 144,100' \
    -fill none -stroke '#803030' -strokewidth 3 -draw 'arc 100,130 140,150 20,160' \
    -stroke none -fill white -font "$FONT" -pointsize 13 -gravity south -annotate +0+8 "$4" \
    -quality 70 "$1"
}
face scans/face.jpg '#5a7080' '#e0b090' 'FACE SCAN'
face scans/face_other.jpg '#5a7080' '#a07050' 'FACE SCAN'
face scans/onboarding.jpg '#708060' '#e0b090' 'ONBOARDING PROFILE'
face scans/onboarding_other.jpg '#708060' '#c09070' 'ONBOARDING PROFILE'
"$CONVERT" -size 320x200 xc:'#d8e0e8' -fill '#1f4e79' -draw 'rectangle 0,0 320,36' \
  -fill white -font "$FONT" -pointsize 16 -annotate +12+25 'STUDENT IDENTITY CARD' \
  -fill '#e0b090' -draw 'rectangle 16,52 106,168' -fill '#3a2a20' -draw 'rectangle 16,52 106,80' \
  -fill '#203040' -font "$MONO" -pointsize 12 \
  -annotate +120+70 'NAME  ████████████' -annotate +120+92 'ID    2026-██████' \
  -annotate +120+114 'DOB   ██-██-████' -annotate +120+136 'VALID 2029-08-31' \
  -quality 70 scans/id_card.png
"$CONVERT" scans/id_card.png -quality 70 scans/id_card.jpg && rm scans/id_card.png
"$CONVERT" -size 320x180 xc:'#8a7a68' -fill '#5a4030' -draw 'rectangle 0,120 320,180' \
  -fill '#e8e8e0' -draw 'rectangle 200,20 300,100' -fill '#304050' -draw 'rectangle 30,70 130,120' \
  -fill white -font "$FONT" -pointsize 13 -gravity south -annotate +0+6 'ROOM SCAN 360°' \
  -quality 70 scans/room.jpg
du -sh . && ls -la clips shots scans
