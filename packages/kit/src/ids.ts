// Kept here for the services that take their ids from kit; the generator is shared with the bus.
export { uuidv7, uuidv7Time } from '@neon/contracts';
