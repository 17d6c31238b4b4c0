import type { Logger } from '@neon/kit';
import type { PipelineFactory } from './pipeline.js';

export function mediaPipelineFactory(_o: { ffmpegPath: string; logger: Logger }): PipelineFactory {
  return () => {
    throw new Error('media pipeline unavailable');
  };
}
