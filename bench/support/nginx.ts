// nginx in front of the origin, one worker, adding a fixed header, with an access log.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Undefined where nginx is not installed (`apt-get install nginx-light`). */
export function startNginx(
  origin: string,
  dir: string,
  port: number,
  wrap: (command: string, args: string[]) => [string, string[]] = (command, args) => [command, args],
): ChildProcess | undefined {
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) return undefined;
  const prefix = join(dir, 'nginx');
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const originPort = new URL(origin).port;
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/tmp/body; proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fcgi; uwsgi_temp_path ${prefix}/tmp/uwsgi; scgi_temp_path ${prefix}/tmp/scgi;
  upstream origin { server 127.0.0.1:${originPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header x-api-key "bench-upstream-key";
    }
  }
}
`,
  );
  const [command, args] = wrap('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')]);
  return spawn(command, args, { stdio: 'ignore' });
}
