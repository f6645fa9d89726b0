// The phone camera as a continuous scanner. Detection: the browser's own BarcodeDetector where it
// reports QR support, else the barcode-detector package's ZXing WebAssembly — served from our own
// origin and precached (by default it would come from a CDN), so scanning works offline.
// This module is loaded lazily, when a scan screen opens.
import { prepareZXingModule, BarcodeDetector as ZXingDetector } from 'barcode-detector/ponyfill';
import wasmUrl from 'zxing-wasm/reader/zxing_reader.wasm?url';

interface Detector {
  detect(source: CanvasImageSource): Promise<Array<{ rawValue: string; format: string }>>;
}
/** The browser's own BarcodeDetector, which TypeScript's DOM types do not have. */
interface NativeDetector {
  new (options: { formats: string[] }): Detector;
  getSupportedFormats?: () => Promise<string[]>;
}

const FORMATS = ['qr_code', 'code_128'];
let prepared = false;

async function detector(): Promise<{ detector: Detector; engine: 'native' | 'zxing' }> {
  const Native = (globalThis as { BarcodeDetector?: NativeDetector }).BarcodeDetector;
  if (Native?.getSupportedFormats) {
    try {
      const formats: string[] = await Native.getSupportedFormats();
      if (formats.includes('qr_code'))
        return { detector: new Native({ formats: FORMATS.filter((f) => formats.includes(f)) }), engine: 'native' };
    } catch {
      // fall through to ZXing
    }
  }
  if (!prepared) {
    prepareZXingModule({
      overrides: { locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? wasmUrl : prefix + path) },
      fireImmediately: false,
    });
    prepared = true;
  }
  return { detector: new ZXingDetector({ formats: FORMATS as never }) as unknown as Detector, engine: 'zxing' };
}

export interface CameraScanner {
  stop(): void;
  setTorch(on: boolean): Promise<boolean>;
  torchSupported: boolean;
  engine: 'native' | 'zxing';
}

/** Start the rear camera in `video` and call `onRead` with every code seen (the caller debounces). */
export async function startCamera(video: HTMLVideoElement, onRead: (text: string) => void): Promise<CameraScanner> {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: false,
  });
  video.srcObject = stream;
  video.muted = true;
  video.setAttribute('playsinline', '');
  await video.play();
  const { detector: d, engine } = await detector();
  const [track] = stream.getVideoTracks();
  // torch is not in TypeScript's MediaTrackCapabilities
  const caps: MediaTrackCapabilities & { torch?: boolean } = track.getCapabilities?.() ?? {};
  let running = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = async () => {
    if (!running) return;
    try {
      if (video.readyState >= 2) {
        for (const code of await d.detect(video)) if (code.rawValue) onRead(code.rawValue);
      }
    } catch {
      // a frame that cannot be read: try the next one
    }
    if (running) timer = setTimeout(loop, 120);
  };
  void loop();
  return {
    engine,
    torchSupported: !!caps.torch,
    async setTorch(on: boolean) {
      if (!caps.torch) return false;
      try {
        await track.applyConstraints({ advanced: [{ torch: on } as MediaTrackConstraintSet] });
        return true;
      } catch {
        return false;
      }
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      for (const t of stream.getTracks()) t.stop();
      video.srcObject = null;
    },
  };
}
