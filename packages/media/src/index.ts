export {
  DEFAULT_LADDER,
  SOURCE_RUNG,
  AUDIO_RENDITION,
  planLadder,
  isH264,
  isAac,
  type SourceInfo,
  type RungSpec,
  type PlannedRendition,
} from './ladder.js';
export { buildFfmpegArgs, fragmentDurationUs, type FfmpegArgsOptions } from './ffmpeg-args.js';
export { MediaRequestError, type MediaRequestCode } from './errors.js';
export {
  BoxStreamSplitter,
  BmffError,
  parseInit,
  parseFragment,
  readBoxes,
  type TrackInfo,
  type FragmentInfo,
  type Sample,
} from './bmff.js';
export {
  RenditionPackager,
  initUri,
  segmentUri,
  partUri,
  type Part,
  type Segment,
  type PackagerOptions,
} from './packager.js';
export {
  renderMediaPlaylist,
  renderMasterPlaylist,
  blockingPlaylist,
  mediaPlaylistUri,
  recordedRenditions,
  RECORDING_MIN_SHARE,
  type RenditionInfo,
  type RenditionReport,
  type MediaPlaylistQuery,
} from './playlist.js';
export { renderMpd } from './dash.js';
export {
  runFfmpeg,
  quoteCommand,
  type MediaLogger,
  type FfmpegExit,
  type FfmpegProcess,
} from './runner.js';
export {
  startPipeline,
  type Pipeline,
  type PipelineOptions,
  type EndOptions,
  type PipelineEvents,
  type VodResult,
  type SegmentEvent,
  type PipelineErrorEvent,
  type PipelineExitEvent,
  type MediaResource,
  type PipelineHealth,
} from './pipeline.js';
export {
  SpeedMeter,
  CpuMeter,
  HostIdleMeter,
  shedDecision,
  processCpuSeconds,
  DEFAULT_SHED_POLICY,
  type ShedPolicy,
  type LadderReading,
} from './speed.js';
export { FlvReader, flvHeader, metadataNumber, type FlvTag, type FlvHeader } from './flv.js';
export { recoverRecording, type RecoveredRecording } from './recover.js';
