// Precompresses the dashboard's browser files for `s3-prune serve`: FILE.br (brotli, best)
// and FILE.gz (gzip -9) beside each FILE in the given directory. The server embeds all three
// and sends the one the browser asks for (Accept-Encoding), so nothing is compressed per request.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/compress-site.mjs DIR');
  process.exit(2);
}
for (const name of readdirSync(dir)) {
  // compressed copies and make's stamp file (.built) are not site files
  if (name.startsWith('.') || name.endsWith('.br') || name.endsWith('.gz')) continue;
  const path = join(dir, name);
  if (!statSync(path).isFile()) continue;
  const body = readFileSync(path);
  const br = brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
  const gz = gzipSync(body, { level: 9 });
  writeFileSync(path + '.br', br);
  writeFileSync(path + '.gz', gz);
  console.log(`${name}: ${body.length} B, brotli ${br.length} B, gzip ${gz.length} B`);
}
