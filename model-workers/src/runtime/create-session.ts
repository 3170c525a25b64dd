/**
 * Creates an ONNX Runtime session on the first execution provider that
 * works, in configured order, falling back to CPU with a warning.
 */
import type { Logger } from '@switchyard/observability/logger';
import ort from 'onnxruntime-node';
import type { ExecutionProvider } from '../repository/model-config.ts';

export interface SessionOptions {
  providers: readonly ExecutionProvider[];
  intraOpThreads: number;
  interOpThreads: number;
  logger: Logger;
}

export interface CreatedSession {
  session: ort.InferenceSession;
  provider: ExecutionProvider;
}

function threadOptions({ intraOpThreads, interOpThreads }: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
    ...(interOpThreads > 0 ? { interOpNumThreads: interOpThreads } : {}),
  };
}

export async function createSession(modelPath: string, options: SessionOptions): Promise<CreatedSession> {
  const { providers, logger } = options;
  const base = threadOptions(options);
  for (const provider of providers) {
    if (provider === 'cpu') break;
    try {
      // Severity 4 (fatal only): an unavailable provider is expected and reported below.
      const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: [provider], logSeverityLevel: 4 });
      logger.info({ model_path: modelPath, provider }, 'execution provider selected');
      return { session, provider };
    } catch (error) {
      logger.warn(
        { model_path: modelPath, provider, reason: error instanceof Error ? error.message : String(error) },
        `execution provider ${provider} is not available; trying the next one`,
      );
    }
  }
  if (!providers.includes('cpu')) logger.warn({ model_path: modelPath }, 'no configured execution provider is available; falling back to cpu');
  const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'], logSeverityLevel: 3 });
  logger.info({ model_path: modelPath, provider: 'cpu' }, 'execution provider selected');
  return { session, provider: 'cpu' };
}
