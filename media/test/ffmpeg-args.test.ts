import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, classifyStderrLine, parseLadder } from '../src/transcode/ffmpeg-args.ts';

const input = ['-i', 'rtmp://127.0.0.1:1935/live/k'];
const base = { input, codecs: { video: 'h264', audio: 'aac' }, ladder: [], partTarget: 0.333, keyframeInterval: 1 };

/** The arguments of the output that writes to `pipe:<fd>` (from after the previous output to it). */
function output(args: string[], fd: number): string[] {
  const end = args.indexOf(`pipe:${fd}`);
  let start = end - 1;
  while (start > 0 && !args[start - 1]!.startsWith('pipe:') && args[start - 1] !== input[1]) start--;
  return args.slice(start, end + 1);
}

describe('ffmpeg arguments', () => {
  it('passes H.264/AAC through into fragmented MP4 on stdout, without reading stdin', () => {
    const { args, outputs } = buildFfmpegArgs(base);
    expect(outputs).toEqual([{ rendition: 'source', fd: 1 }]);
    expect(args.slice(0, 3)).toEqual(['-hide_banner', '-nostats', '-nostdin']);
    expect(args).toEqual(expect.arrayContaining(input));
    const out = output(args, 1);
    expect(out).toEqual(expect.arrayContaining(['-c:v', 'copy', '-c:a', 'copy', '-f', 'mp4']));
    expect(out[out.indexOf('-movflags') + 1]).toBe('+frag_keyframe+empty_moov+default_base_moof+skip_trailer');
    expect(out[out.indexOf('-frag_duration') + 1]).toBe(String(Math.round((0.333 / 20) * 1e6)));
    expect(out).not.toContain('libx264');
  });

  it('transcodes what HLS players cannot take as it is', () => {
    const { args } = buildFfmpegArgs({ ...base, codecs: { video: 'vp8', audio: 'opus' } });
    const out = output(args, 1);
    expect(out).toEqual(expect.arrayContaining(['-c:v', 'libx264', '-c:a', 'aac', '-force_key_frames', 'expr:gte(t,n_forced*1)']));
    const unknown = buildFfmpegArgs({ ...base, codecs: { video: null, audio: null } });
    expect(output(unknown.args, 1)).toEqual(expect.arrayContaining(['-c:v', 'copy', '-c:a', 'copy']));
  });

  it('adds one output per ladder rung on its own descriptor', () => {
    const { args, outputs } = buildFfmpegArgs({ ...base, ladder: parseLadder('720p:2500k, 360p:0.8m'.replace('0.8m', '800k')) });
    expect(outputs).toEqual([
      { rendition: 'source', fd: 1 },
      { rendition: '720p', fd: 3 },
      { rendition: '360p', fd: 4 },
    ]);
    const rung = output(args, 4);
    expect(rung).toEqual(expect.arrayContaining(['-vf', 'scale=-2:360', '-b:v', '800000', '-maxrate', '800000', '-c:a', 'aac']));
  });

  it('parses a ladder and refuses anything else', () => {
    expect(parseLadder('')).toEqual([]);
    expect(parseLadder('1080p:6m,480p:1200k,240p:300000')).toEqual([
      { name: '1080p', height: 1080, videoBitrate: 6_000_000 },
      { name: '480p', height: 480, videoBitrate: 1_200_000 },
      { name: '240p', height: 240, videoBitrate: 300_000 },
    ]);
    for (const bad of ['720:2500k', '720p', 'p:1k', '720p:fast', '720p:1k,,']) expect(() => parseLadder(bad), bad).toThrow(/ladder entry/);
  });

  it('turns stderr lines into log levels', () => {
    expect(classifyStderrLine('[rtmp @ 0x55d0c0] [error] Connection reset')).toEqual({ level: 'error', message: '[rtmp @ 0x55d0c0] Connection reset' });
    expect(classifyStderrLine('[warning] Non-monotonous DTS')).toEqual({ level: 'warn', message: 'Non-monotonous DTS' });
    expect(classifyStderrLine('[fatal] out of memory').level).toBe('error');
    expect(classifyStderrLine('[info] Stream mapping').level).toBe('info');
    expect(classifyStderrLine('[debug] x').level).toBe('debug');
    expect(classifyStderrLine('plain line')).toEqual({ level: 'info', message: 'plain line' });
  });
});
