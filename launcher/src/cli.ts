import { parseArgs } from 'node:util';
import { adminCommands, identitySpec } from '@neon/identity';
import { openDb } from '@neon/db';
import { ConfigError, createLogger, isAppError, loadConfig } from '@neon/kit';
import { platformSpec } from '@neon/platform';
import { withLocalPublicUrl } from './public-url.js';

// `npm run neon -- <command>`: operations on the same database the server uses.
const USAGE = `Usage:
  npm run neon -- admin create <username> --email <email> --password <password>
  npm run neon -- admin create <username> --email <email> --password -   (reads the password from stdin)
  npm run neon -- admin grant <username>

Opens DATABASE_URL when set, otherwise the embedded database under DATA_DIR.
The embedded database cannot be opened by two processes: stop \`npm start\` first.
`;

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: {
    email: { type: 'string' },
    password: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
  strict: true,
});
if (values.help) usage();
const [group, command, username] = positionals;
if (group !== 'admin' || (command !== 'create' && command !== 'grant') || !username) usage();

let base;
let identity;
try {
  const env = withLocalPublicUrl(process.env);
  base = loadConfig(platformSpec, env);
  identity = loadConfig(identitySpec, env);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}

const logger = createLogger({ level: 'warn', pretty: base.LOG_PRETTY, name: 'neon-cli' });
let db;
try {
  db = await openDb({
    databaseUrl: base.DATABASE_URL,
    dataDir: base.DATA_DIR,
    applicationName: 'neon-cli',
  });
} catch (err) {
  process.stderr.write(
    `Could not open the database (${err instanceof Error ? err.message : String(err)}).\n` +
      (base.DATABASE_URL ? '' : `If Neon is running on ${base.DATA_DIR}, stop it first.\n`),
  );
  process.exit(1);
}

let exitCode = 0;
try {
  const commands = await adminCommands(db, logger, identity, base.PUBLIC_URL);
  if (command === 'create') {
    if (!values.email || values.password === undefined)
      usage('admin create needs --email and --password.');
    const password = values.password === '-' ? await readStdin() : values.password;
    const user = await commands.createAdmin({ username, email: values.email, password });
    process.stdout.write(`Created admin ${user.username} (${user.id}).\n`);
  } else {
    const user = await commands.grantAdmin(username);
    process.stdout.write(
      user.changed
        ? `${user.username} is now an admin.\n`
        : `${user.username} was already an admin.\n`,
    );
  }
} catch (err) {
  exitCode = 1;
  if (isAppError(err)) process.stderr.write(`${err.code}: ${err.detail ?? err.message}\n`);
  else process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  await db.close();
}
process.exit(exitCode);
