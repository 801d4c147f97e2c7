/** Pure ffmpeg command-line builders: the transcoder's whole behaviour is in these arguments. */

export interface LadderRung {
  /** Rendition name, e.g. 720p; also its directory. */
  name: string;
  height: number;
  /** Video bits per second. */
  videoBitrate: number;
}

export interface SourceCodecs {
  video: string | null;
  audio: string | null;
}

export interface FfmpegPlan {
  input: string[];
  /** Codecs the ingest reported (null: unknown, assumed H.264/AAC as every RTMP encoder sends by default). */
  codecs: SourceCodecs;
  /** Rendition ladder below the source; empty passes the source through only. */
  ladder: LadderRung[];
  /** Seconds; fragments (LL-HLS parts) are cut a little shorter, so none exceeds it. */
  partTarget: number;
  /** Seconds between forced keyframes of transcoded renditions (and of a transcoded source). */
  keyframeInterval: number;
}

export interface FfmpegOutput {
  rendition: string;
  /** File descriptor of the child that carries this rendition's fMP4 (1 = stdout, 3, 4, …). */
  fd: number;
}

/** Can this codec go into fMP4 for HLS players unchanged? */
const copyableVideo = (c: string | null) => c === null || c === 'h264';
const copyableAudio = (c: string | null) => c === null || c === 'aac';

function fmp4Output(fd: number, partTarget: number): string[] {
  // Small fragments (a twentieth of the part target: one frame each up to 60 fps) that the
  // packager groups into parts of 85–100 % of the target; +frag_keyframe starts one at every
  // keyframe, where segments may be cut.
  const fragUs = Math.round((partTarget / 20) * 1e6);
  return [
    '-f', 'mp4',
    '-movflags', '+frag_keyframe+empty_moov+default_base_moof+skip_trailer',
    '-frag_duration', String(fragUs),
    '-flush_packets', '1',
    `pipe:${fd}`,
  ];
}

function h264(bitrate: number | null, keyframeInterval: number): string[] {
  // passthrough: encode the frames that arrive, with their timestamps. Without it ffmpeg picks a
  // constant frame rate for the mp4 muxer from the input's; an RTP (WebRTC) input has none but its
  // 90 kHz clock, so ffmpeg duplicated every frame ~3,000 times (90k fps) and fell behind at once.
  const args = ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-fps_mode', 'passthrough'];
  if (bitrate) args.push('-b:v', String(bitrate), '-maxrate', String(bitrate), '-bufsize', String(bitrate * 2));
  args.push('-force_key_frames', `expr:gte(t,n_forced*${keyframeInterval})`, '-sc_threshold', '0');
  return args;
}

const aac = ['-c:a', 'aac', '-b:a', '128k', '-ar', '48000'];

/** The whole command line, and which descriptor carries which rendition. */
export function buildFfmpegArgs(plan: FfmpegPlan): { args: string[]; outputs: FfmpegOutput[] } {
  const args = ['-hide_banner', '-nostats', '-nostdin', '-loglevel', 'level+warning', ...plan.input];
  const outputs: FfmpegOutput[] = [];
  // The source rendition: passed through when its codecs play in HLS as they are.
  args.push('-map', '0:v:0?', '-map', '0:a:0?');
  args.push(...(copyableVideo(plan.codecs.video) ? ['-c:v', 'copy'] : h264(null, plan.keyframeInterval)));
  args.push(...(copyableAudio(plan.codecs.audio) ? ['-c:a', 'copy'] : aac));
  args.push(...fmp4Output(1, plan.partTarget));
  outputs.push({ rendition: 'source', fd: 1 });
  plan.ladder.forEach((rung, i) => {
    const fd = 3 + i;
    args.push('-map', '0:v:0?', '-map', '0:a:0?', '-vf', `scale=-2:${rung.height}`, ...h264(rung.videoBitrate, plan.keyframeInterval), ...aac);
    args.push(...fmp4Output(fd, plan.partTarget));
    outputs.push({ rendition: rung.name, fd });
  });
  return { args, outputs };
}

/** "720p:2500k,480p:1200k" → rungs; throws with a readable message on anything else. */
export function parseLadder(spec: string): LadderRung[] {
  if (spec.trim() === '') return [];
  return spec.split(',').map((entry) => {
    const m = /^\s*(\d{2,4})p:(\d+)(k|m)?\s*$/i.exec(entry);
    if (!m) throw new Error(`ladder entry "${entry}" is not <height>p:<bitrate>[k|m], e.g. 720p:2500k`);
    const unit = m[3]?.toLowerCase() === 'm' ? 1e6 : m[3] ? 1e3 : 1;
    return { name: `${m[1]}p`, height: Number(m[1]), videoBitrate: Number(m[2]) * unit };
  });
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** ffmpeg's `-loglevel level+…` prefixes each line with `[level]`; map it to ours. */
export function classifyStderrLine(line: string): { level: LogLevel; message: string } {
  const m = /^(?:\[[^\]]+ @ 0x[0-9a-f]+\] )?\[(panic|fatal|error|warning|info|verbose|debug|trace)\] ?(.*)$/.exec(line);
  const prefix = /^(\[[^\]]+ @ 0x[0-9a-f]+\] )/.exec(line)?.[1] ?? '';
  if (!m) return { level: 'info', message: line };
  const level: LogLevel = m[1] === 'panic' || m[1] === 'fatal' || m[1] === 'error' ? 'error' : m[1] === 'warning' ? 'warn' : m[1] === 'info' ? 'info' : 'debug';
  return { level, message: `${prefix}${m[2]}`.trim() };
}
