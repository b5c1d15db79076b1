import { spawn, spawnSync } from 'node:child_process';

/**
 * Opens `url` in the user's browser where there is one: a desktop session (macOS,
 * Windows, or Linux with DISPLAY/WAYLAND_DISPLAY) with its opener on PATH. Returns
 * whether it tried; on a server or over SSH it does nothing and the printed URL is the way.
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const opener = openerFor(process.platform, env);
  if (!opener) return false;
  const [command, ...args] = opener;
  try {
    const child = spawn(command as string, [...args, url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

function openerFor(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] | undefined {
  if (env['KEYGATE_NO_BROWSER']) return undefined;
  if (platform === 'darwin') return ['open'];
  if (platform === 'win32') return ['cmd', '/c', 'start', '""'];
  if (!env['DISPLAY'] && !env['WAYLAND_DISPLAY']) return undefined;
  const found = spawnSync('sh', ['-c', 'command -v xdg-open'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? [found.stdout.trim()] : undefined;
}
