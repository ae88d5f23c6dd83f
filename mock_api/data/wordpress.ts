/**
 * Generated WordPress content: posts, pages and media sharing one id sequence, as they
 * share `wp_posts`, with publish and modified times that rise with the id and modified times
 * spread later. Deterministic from the seed; the site's timezone is UTC, so `date` equals
 * `date_gmt`. Links are paths: the routes prefix the request's origin.
 * @module
 */
import { createRandom, deriveSeed } from "./random.ts";

/** The three WordPress collections the mock serves. */
export type WordPressType = "posts" | "pages" | "media";

/** One item as WordPress's REST API returns it (minus the request-dependent origin). */
export interface WordPressItem {
  id: number;
  date: string;
  date_gmt: string;
  modified: string;
  modified_gmt: string;
  slug: string;
  status: "publish" | "inherit";
  type: "post" | "page" | "attachment";
  /** Path of the public page; the routes add the origin. */
  link: string;
  title: { rendered: string };
  content: { rendered: string; protected: boolean };
  excerpt: { rendered: string; protected: boolean };
  author: number;
  /** Posts only. */
  categories?: number[];
  /** Pages only. */
  parent?: number;
  menu_order?: number;
  /** Media only (`source_url` is a path; the routes add the origin). */
  source_url?: string;
  mime_type?: string;
  media_type?: "image";
  alt_text?: string;
}

/** Options of {@linkcode generateWordPress}. */
export interface GenerateWordPressOptions {
  /** @default 137 */
  posts?: number;
  /** @default 12 */
  pages?: number;
  /** @default 45 */
  media?: number;
}

/** The generated site: each collection in id order. */
export type WordPressData = Record<WordPressType, WordPressItem[]>;

const WORDS = [
  "harbour",
  "tide",
  "lighthouse",
  "ledger",
  "cargo",
  "compass",
  "anchor",
  "current",
  "beacon",
  "voyage",
  "chart",
  "keel",
  "quay",
  "signal",
  "horizon",
  "manifest",
  "pilot",
  "sounding",
  "ballast",
  "drift",
];

/** Publishing starts here; items follow one another by 1 hour to 5 days. */
const FIRST_PUBLISHED = Date.UTC(2019, 0, 7, 9, 0, 0);

/** WordPress's date text: ISO 8601 to the second, without a zone. */
function wpDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/**
 * Generates the site for `seed`: posts, pages and media interleaved on one id sequence.
 *
 * @example
 * ```ts
 * const site = generateWordPress(42);
 * site.posts.length; // 137
 * ```
 */
export function generateWordPress(
  seed: number,
  options: GenerateWordPressOptions = {},
): WordPressData {
  const random = createRandom(deriveSeed(seed, "wordpress"));
  const counts = {
    posts: options.posts ?? 137,
    pages: options.pages ?? 12,
    media: options.media ?? 45,
  };
  const types: WordPressType[] = [
    ...new Array<WordPressType>(counts.posts).fill("posts"),
    ...new Array<WordPressType>(counts.pages).fill("pages"),
    ...new Array<WordPressType>(counts.media).fill("media"),
  ];
  for (let i = types.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [types[i], types[j]] = [types[j], types[i]];
  }
  const site: WordPressData = { posts: [], pages: [], media: [] };
  let published = FIRST_PUBLISHED;
  const word = () => WORDS[Math.floor(random() * WORDS.length)];
  for (let index = 0; index < types.length; index++) {
    const id = index + 1;
    const type = types[index];
    published += 3_600_000 + Math.floor(random() * 5 * 86_400_000 / 1000) * 1000;
    // Half are never edited; the others are edited up to 400 days later.
    const modified = random() < 0.5
      ? published
      : published + Math.floor(random() * 400 * 86_400) * 1000;
    const titleWords = [word(), word(), word()];
    const title = titleWords.map((w, i) => i === 0 ? w[0].toUpperCase() + w.slice(1) : w).join(
      " ",
    );
    const slug = `${titleWords.join("-")}-${id}`;
    const date = wpDate(published);
    const paragraph = `${title}: notes on the ${word()} and the ${word()}.`;
    const item: WordPressItem = {
      id,
      date,
      date_gmt: date,
      modified: wpDate(modified),
      modified_gmt: wpDate(modified),
      slug,
      status: type === "media" ? "inherit" : "publish",
      type: type === "posts" ? "post" : type === "pages" ? "page" : "attachment",
      link: type === "posts"
        ? `/${date.slice(0, 4)}/${date.slice(5, 7)}/${date.slice(8, 10)}/${slug}/`
        : `/${slug}/`,
      title: { rendered: title },
      content: { rendered: `<p>${paragraph}</p>\n`, protected: false },
      excerpt: { rendered: `<p>${paragraph.slice(0, 40)}&hellip;</p>\n`, protected: false },
      author: 1 + Math.floor(random() * 5),
    };
    if (type === "posts") item.categories = [1 + Math.floor(random() * 6)];
    if (type === "pages") {
      item.parent = 0;
      item.menu_order = site.pages.length;
    }
    if (type === "media") {
      const png = random() < 0.3;
      item.source_url = `/wp-content/uploads/${date.slice(0, 4)}/${date.slice(5, 7)}/${slug}.${
        png ? "png" : "jpg"
      }`;
      item.mime_type = png ? "image/png" : "image/jpeg";
      item.media_type = "image";
      item.alt_text = title;
    }
    site[type].push(item);
  }
  return site;
}
