export { EmoStreamClient, EmoSubscriber, type StreamClientOptions, type CloseInfo } from './client.js';
export { AsyncQueue } from './async-queue.js';
export type { EmotionResult, EndMessage, ErrorMessage, ServerMessage, SubscribedMessage, Welcome } from './client.js';
