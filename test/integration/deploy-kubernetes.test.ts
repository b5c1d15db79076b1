import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { ROOT } from '../support/keygate.ts';

const DIR = join(ROOT, 'deploy/kubernetes');

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, any>;

/** `kubectl kustomize deploy/kubernetes`: offline, no cluster; the manifests as they would be applied. */
function render(): Manifest[] {
  const run = spawnSync('kubectl', ['kustomize', DIR], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', KUBECONFIG: '/dev/null', HOME: '/tmp' },
  });
  if (run.error) {
    throw new Error(
      `kubectl is needed to render deploy/kubernetes/ (on the machine image; else scripts/install-kubectl.sh): ${run.error.message}`,
    );
  }
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return parseAllDocuments(run.stdout).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Manifest;
  });
}

/** The schema check of kubernetes-models (the Kubernetes OpenAPI schemas, offline) for one object. */
async function validateSchema(manifest: Manifest): Promise<void> {
  const [group, version] = manifest.apiVersion.includes('/')
    ? manifest.apiVersion.split('/')
    : ['', manifest.apiVersion];
  const module = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const models = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = models[manifest.kind];
  expect(Model, `${manifest.kind} in ${module}`).toBeDefined();
  new (Model as new (data: unknown) => { validate(): void })(manifest).validate();
}

describe('deploy/kubernetes', () => {
  let manifests: Manifest[];
  let deployment: Manifest;
  let pod: Record<string, any>;
  let container: Record<string, any>;
  let config: Readonly<Config>;
  const find = (kind: string, name?: string) =>
    manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name)) as Manifest;

  beforeAll(() => {
    manifests = render();
    deployment = find('Deployment', 'keygate');
    pod = deployment.spec.template.spec;
    container = pod.containers[0];
    const configMap = find('ConfigMap');
    // The mounted configuration is one Keygate accepts, with the pod's environment.
    config = parseConfig(configMap.data['keygate.yaml'], {
      POD_NAME: 'keygate-7d9f-abcde',
      KEYGATE_ADMIN_TOKEN: 'admin-token-0123456789abcdef',
      KEYGATE_METRICS_TOKEN: 'metrics-token-0123456789abcdef',
      GITHUB_CLIENT_ID: 'Iv1.0123',
      GITHUB_CLIENT_SECRET: 'client-secret',
    });
  });

  it('renders every object and each one passes the Kubernetes schema', async () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      [
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'Namespace',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'ServiceAccount',
        'ServiceAccount',
      ].sort(),
    );
    for (const manifest of manifests) {
      if (manifest.kind !== 'Namespace' && manifest.kind !== 'ClusterRoleBinding') {
        expect(manifest.metadata.namespace, manifest.kind).toBe('keygate');
      }
      await validateSchema(manifest);
    }
    // The schema check can fail: a wrong type is caught.
    const broken = structuredClone(deployment);
    broken['spec'].replicas = 'three';
    await expect(validateSchema(broken)).rejects.toThrow();
  });

  it('runs several replicas behind a Service, with a disruption budget that keeps most serving', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(3);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const labels = deployment.spec.template.metadata.labels;
    const service = find('Service', 'keygate');
    expect(labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports[0].targetPort).toBe(container.ports[0].name);
    expect(container.ports[0].containerPort).toBe(config.server.port);
    expect(config.server.host).toBe('0.0.0.0');
    const pdb = find('PodDisruptionBudget', 'keygate');
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('checks readiness on /readyz and liveness on /healthz', () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // /readyz costs Vault two requests: not more than one every few seconds.
    expect(container.readinessProbe.periodSeconds).toBeGreaterThanOrEqual(5);
  });

  it('runs non-root on a read-only root filesystem, with resource requests', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(container.resources.limits.memory).toBeDefined();
    expect(find('Namespace', 'keygate').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe(
      'restricted',
    );
  });

  it('gives shutdown the time Keygate’s drain takes: preStop pause, shutdownGraceMs, a refresh in flight', () => {
    const pause = container.lifecycle.preStop.sleep.seconds as number;
    expect(pause).toBeGreaterThan(0);
    // What close() waits for (src/keygate.ts): the server's grace, then refreshes in flight
    // (one token request plus one Vault write, Refresher.close), then 2 s of webhook drain.
    const drainMs =
      config.server.shutdownGraceMs + config.refresh.tokenTimeoutMs + config.vault.timeoutMs + 2000;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(pause * 1000 + drainMs);
  });

  it('reads its configuration from the ConfigMap and its secrets from Secrets, never inline', () => {
    const configMap = find('ConfigMap');
    expect(pod.volumes.find((v: any) => v.name === 'config').configMap.name).toBe(configMap.metadata.name);
    const mount = container.volumeMounts.find((m: any) => m.name === 'config');
    expect(container.args).toEqual(['serve', '--config', `${mount.mountPath}/keygate.yaml`]);
    const text = configMap.data['keygate.yaml'] as string;
    expect(text).toContain('${KEYGATE_ADMIN_TOKEN}');
    expect(text).toContain('${GITHUB_CLIENT_SECRET}');
    for (const env of container.env as Array<{ name: string; value?: string; valueFrom?: any }>) {
      expect(env.value, `${env.name} is set inline`).toBeUndefined();
      if (/TOKEN|SECRET/.test(env.name)) expect(env.valueFrom.secretKeyRef.name).toBe('keygate-secrets');
    }
    expect(config.admin.token).toBe('admin-token-0123456789abcdef');
    expect(config.replica.id).toBe('keygate-7d9f-abcde');
  });

  it('logs into Vault with a projected service-account token for the audience vault, and mounts no API token', () => {
    expect(pod.serviceAccountName).toBe('keygate');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(find('ServiceAccount', 'keygate').automountServiceAccountToken).toBe(false);
    const projected = pod.volumes.find((v: any) => v.projected)?.projected.sources[0].serviceAccountToken;
    expect(projected.audience).toBe('vault');
    const volume = pod.volumes.find((v: any) => v.projected).name;
    const mount = container.volumeMounts.find((m: any) => m.name === volume);
    expect(config.vault.auth.kubernetes).toEqual({
      role: 'keygate',
      tokenPath: `${mount.mountPath}/${projected.path}`,
      mount: 'kubernetes',
    });
    // The reviewer Vault uses outside the cluster may create TokenReviews, nothing else.
    const binding = find('ClusterRoleBinding');
    expect(binding.roleRef.name).toBe('system:auth-delegator');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'vault-token-reviewer', namespace: 'keygate' },
    ]);
  });

  it('the Containerfile runs keygate serve as a non-root user, writing nothing to the image', () => {
    const file = readFileSync(join(ROOT, 'deploy/Containerfile'), 'utf8');
    const user = /^USER (\d+):(\d+)$/m.exec(file);
    expect(Number(user?.[1])).toBe(pod.securityContext.runAsUser);
    expect(file).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/keygate.js"\]$/m);
    expect(file).toMatch(/^CMD \["serve", "--config", "\/etc\/keygate\/config\/keygate.yaml"\]$/m);
    expect(file).toContain('chmod -R a-w /app');
    expect(container.args).toEqual(['serve', '--config', '/etc/keygate/config/keygate.yaml']);
  });
});
