// What a stocktaker hears and feels per read, without looking at the screen: one short high beep
// (and a short buzz) for a new read, two low tones for a misread or a foreign code, a double mid
// beep for a duplicate. Web Audio tones: nothing to download.
export type Sound = 'ok' | 'error' | 'duplicate' | 'location';

let ctx: AudioContext | undefined;

function tone(freq: number, start: number, length: number, type: OscillatorType = 'sine'): void {
  if (!ctx) return;
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = type;
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.25, ctx.currentTime + start);
  gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + start + length);
  osc.connect(gain).connect(ctx.destination);
  osc.start(ctx.currentTime + start);
  osc.stop(ctx.currentTime + start + length + 0.02);
}

/** Call from a tap first (browsers start audio only after a gesture). */
export function unlockAudio(): void {
  try {
    ctx ??= new AudioContext();
    void ctx.resume();
  } catch {
    ctx = undefined;
  }
}

export const played: Sound[] = [];

export function signal(sound: Sound): void {
  played.push(sound);
  if (played.length > 50) played.shift();
  (globalThis as { __outpostSounds?: Sound[] }).__outpostSounds = played; // for tests and diagnostics
  if (sound === 'ok') {
    tone(1760, 0, 0.09);
    navigator.vibrate?.(40);
  } else if (sound === 'location') {
    tone(1320, 0, 0.08);
    tone(1760, 0.1, 0.08);
    navigator.vibrate?.(40);
  } else if (sound === 'duplicate') {
    tone(990, 0, 0.07);
    tone(990, 0.12, 0.07);
    navigator.vibrate?.([30, 60, 30]);
  } else {
    tone(220, 0, 0.18, 'square');
    tone(180, 0.22, 0.25, 'square');
    navigator.vibrate?.([120, 60, 120]);
  }
}
