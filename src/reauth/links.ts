import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { CredentialRef } from '../credentials/ref.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import type { KvStore } from '../vault/kv.ts';
import { formToken, newFormKey, newNonce, tokenMatches } from './forgery.ts';

/** Who a connect link is for: one credential, and the user of the call when it named one. */
export interface LinkTarget extends CredentialRef {
  /** The user the proxied call named (`keygate-user`), hashed; links are then shared per user. */
  subject?: string | undefined;
}

/** A connect link as offered to callers: the id (in the URL) and the code shown beside it. */
export interface ConnectLink extends LinkTarget {
  id: string;
  /** Shown to the caller with the link, typed on the page: the URL alone connects nothing. */
  code: string;
  expiresAt: string;
}

/** The confirmation page as shown to one browser: its nonce (the cookie) and the form's token. */
export interface OpenedLink {
  link: ConnectLink;
  nonce: string;
  token: string;
}

/** What a post of the confirmation form carries besides the code: the page's proof (forgery.ts). */
export interface FormProof {
  nonce: string | undefined;
  token: string;
}

interface StoredLink extends ConnectLink {
  createdAt: string;
  used: boolean;
  wrongCodes: number;
  /** The key of the page's anti-forgery token; absent in links made before it existed. */
  formKey?: string;
}

const ID = /^[A-Za-z0-9_-]{22}$/;
// No 0/O, 1/I/L: the code is read off a screen and typed.
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const MAX_WRONG_CODES = 5;
// Writes a live link can take: the wrong codes and one spend. A judgement meets at most that
// many conflicts; more means something else writes the record, and it fails rather than guess.
const MAX_CONFLICTS = 2 * (MAX_WRONG_CODES + 1);
// A link offered with less life than this left is not shared: the next caller gets a fresh one.
const MIN_SHARED_LIFE_MS = 60_000;

const linkPath = (id: string) => `reauth-link/${id}`;
const keyOf = (t: LinkTarget) => `${t.tenant}/${t.integration}/${t.account}/${t.subject ?? '_'}`;
const offerPath = (t: LinkTarget) => `reauth-offer/${keyOf(t)}`;

function newCode(): string {
  const pick = () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)] as string;
  const chars = Array.from({ length: 8 }, pick).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}

const normalise = (code: string) => code.toUpperCase().replace(/[^A-Z0-9]/g, '');

function sameCode(a: string, b: string): boolean {
  const x = Buffer.from(normalise(a));
  const y = Buffer.from(normalise(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

const isLive = (link: StoredLink, now = Date.now()) => !link.used && Date.parse(link.expiresAt) > now;

/**
 * Connect links in KV: `reauth-link/<id>` holds the link, `reauth-offer/<tenant>/<integration>/<account>`
 * points at the one currently offered, so every caller meeting the same dead credential
 * gets the same link (one Vault round trip per replica, shared by concurrent callers).
 * A link is spent by its first successful use, after too many wrong codes, or by expiry.
 * Every change to a link is a check-and-set write (`#judge`), so replicas agree on it.
 */
export class ConnectLinks {
  readonly #kv: KvStore;
  readonly #ttlMs: number;
  readonly #inFlight = new Map<string, Promise<ConnectLink>>();

  constructor({ kv, ttlSeconds }: { kv: KvStore; ttlSeconds: number }) {
    this.#kv = kv;
    this.#ttlMs = ttlSeconds * 1000;
  }

  /** The link currently offered for this credential, or a new one. */
  offer(target: LinkTarget): Promise<ConnectLink> {
    const key = keyOf(target);
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#offer(target).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  /** A live link by id; `connect_link_invalid` when unknown, spent or expired (one answer for all three). */
  async get(id: string): Promise<ConnectLink> {
    return publicPart((await this.#live(id)).data);
  }

  /**
   * The confirmation page for one browser: the live link, and the form token for the
   * browser's nonce (a new nonce when it has none). Writes nothing.
   */
  async open(id: string, nonce: string | undefined): Promise<OpenedLink> {
    const { data } = await this.#live(id);
    if (data.formKey === undefined) throw new KeygateError('connect_link_invalid');
    const pageNonce = nonce ?? newNonce();
    return { link: publicPart(data), nonce: pageNonce, token: formToken(data.formKey, id, pageNonce) };
  }

  /**
   * The live link when `proof` is its page's form token in this browser (as redeem checks
   * it), else `connect_cross_site`; writes nothing. For a form that spends nothing itself
   * (the sign-in's start).
   */
  async checkForm(id: string, proof: FormProof): Promise<ConnectLink> {
    const { data } = await this.#live(id);
    if (data.formKey === undefined) throw new KeygateError('connect_link_invalid');
    if (proof.nonce === undefined || !tokenMatches(data.formKey, id, proof.nonce, proof.token)) {
      throw new KeygateError('connect_cross_site');
    }
    return publicPart(data);
  }

  /**
   * Spends the link if the post comes from its page in this browser (`proof`, else
   * `connect_cross_site` and nothing is written) and `code` is the one shown with it. A
   * wrong code counts; the fifth spends the link. Each judgement is one check-and-set
   * write on the link, retried on what a concurrent one left, here or on another replica:
   * however many codes arrive at once, five wrong ones are judged and the rest find the
   * link spent.
   */
  async redeem(id: string, code: string, proof: FormProof): Promise<ConnectLink> {
    const { before, after } = await this.#judge(id, (link) => {
      const { nonce, token } = proof;
      if (link.formKey === undefined) throw new KeygateError('connect_link_invalid');
      if (nonce === undefined || !tokenMatches(link.formKey, id, nonce, token)) {
        throw new KeygateError('connect_cross_site');
      }
      if (sameCode(code, link.code)) return { ...link, used: true };
      const wrongCodes = link.wrongCodes + 1;
      return { ...link, wrongCodes, used: wrongCodes >= MAX_WRONG_CODES };
    });
    if (after.wrongCodes > before.wrongCodes) throw new KeygateError('connect_code_invalid');
    await this.#unoffer(before);
    return publicPart(before);
  }

  /** Spends the link for a user the embedding application vouched for (`check` throws otherwise). */
  async redeemFor(id: string, check: (link: ConnectLink) => void): Promise<ConnectLink> {
    const { before } = await this.#judge(id, (link) => {
      check(publicPart(link));
      return { ...link, used: true };
    });
    await this.#unoffer(before);
    return publicPart(before);
  }

  // Reads the live link, writes what `next` makes of it with check-and-set, and on a conflict
  // reads and decides again (a link spent meanwhile is then `connect_link_invalid`): a
  // concurrent judgement is never overwritten, and a lost write is never taken as done.
  async #judge(
    id: string,
    next: (link: StoredLink) => StoredLink,
  ): Promise<{ before: StoredLink; after: StoredLink }> {
    for (let conflicts = 0; ; conflicts++) {
      const { data, version } = await this.#live(id);
      const after = next(data);
      try {
        await this.#kv.write(linkPath(id), { ...after }, { cas: version });
        return { before: data, after };
      } catch (err) {
        if (!isKeygateError(err, 'conflict') || conflicts >= MAX_CONFLICTS) throw err;
      }
    }
  }

  // No longer offered: the next caller meeting the credential still dead gets a new link.
  async #unoffer(link: StoredLink): Promise<void> {
    const offer = await this.#kv.read<{ id: string }>(offerPath(link));
    if (offer?.data.id === link.id) await this.#kv.destroy(offerPath(link)).catch(() => {});
  }

  async #live(id: string): Promise<{ data: StoredLink; version: number }> {
    if (!ID.test(id)) throw new KeygateError('connect_link_invalid');
    const record = await this.#kv.read<StoredLink>(linkPath(id));
    if (!record || !isLive(record.data)) throw new KeygateError('connect_link_invalid');
    return record;
  }

  async #offer(target: LinkTarget): Promise<ConnectLink> {
    for (let attempt = 0; ; attempt++) {
      const offer = await this.#kv.read<{ id: string }>(offerPath(target));
      if (offer) {
        const current = await this.#kv.read<StoredLink>(linkPath(offer.data.id));
        // A link made before form keys existed cannot show its page any more: offer a new one.
        const usable = current && current.data.formKey !== undefined;
        if (usable && isLive(current.data, Date.now() + MIN_SHARED_LIFE_MS)) return publicPart(current.data);
      }
      const link = await this.#create(target);
      try {
        await this.#kv.write(offerPath(target), { id: link.id }, { cas: offer?.version ?? 0 });
        return link;
      } catch (err) {
        // Another replica offered a link first: take that one (ours is never shown).
        await this.#kv.destroy(linkPath(link.id)).catch(() => {});
        if (!isKeygateError(err, 'conflict') || attempt >= 3) throw err;
      }
    }
  }

  async #create(target: LinkTarget): Promise<ConnectLink> {
    const now = Date.now();
    const link: StoredLink = {
      tenant: target.tenant,
      integration: target.integration,
      account: target.account,
      ...(target.subject === undefined ? {} : { subject: target.subject }),
      id: randomBytes(16).toString('base64url'),
      code: newCode(),
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.#ttlMs).toISOString(),
      used: false,
      wrongCodes: 0,
      formKey: newFormKey(),
    };
    await this.#kv.write(linkPath(link.id), { ...link }, { cas: 0 });
    return publicPart(link);
  }
}

function publicPart(link: StoredLink | ConnectLink): ConnectLink {
  const { id, code, expiresAt, tenant, integration, account, subject } = link;
  return { id, code, expiresAt, tenant, integration, account, ...(subject === undefined ? {} : { subject }) };
}
