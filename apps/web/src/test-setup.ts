import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

// `npm test` runs these at the lowest priority beside the browser tests: a findBy or waitFor
// gets five seconds of a busy machine, not the default one.
configure({ asyncUtilTimeout: 5_000 });

afterEach(() => cleanup());

// jsdom has no media engine, and its load() only logs "not implemented": the player calls it
// when it lets go of a stream, on every unmount.
HTMLMediaElement.prototype.load = () => undefined;
