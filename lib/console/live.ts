import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Keeps a screen live without a reload: it polls every second while something on it is still
 * running and changing, backs off to 4 s while a running thing stands still and to 15 s when
 * nothing runs; `kick()` (after an action) snaps it back to 1 s.
 */
export function useLive(
  reload: (quiet: boolean) => Promise<void>,
  snapshot: string,
  running: boolean,
  alsoRead?: () => Promise<void>,
): () => void {
  const delay = useRef(1000);
  const last = useRef('');
  const also = useRef(alsoRead);
  also.current = alsoRead;
  const [kick, setKick] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      await reload(true);
      await also.current?.();
      if (!stopped) timer = setTimeout(() => void tick(), delay.current);
    };
    timer = setTimeout(() => void tick(), delay.current);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [reload, kick]);

  useEffect(() => {
    delay.current =
      running && snapshot !== last.current ? 1000 : Math.min(delay.current * 2, running ? 4000 : 15_000);
    last.current = snapshot;
  }, [snapshot, running]);

  return () => {
    delay.current = 1000;
    setKick((k) => k + 1);
  };
}
