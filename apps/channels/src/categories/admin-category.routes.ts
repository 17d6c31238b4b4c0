import Type from 'typebox';
import {
  AdminCategory,
  AdminCategoryList,
  CategorySlug,
  CreateCategoryRequest,
  UpdateCategoryRequest,
} from '@neon/contracts';
import { AppError, requireRole, type FastifyPluginAsyncTypebox } from '@neon/kit';
import type { CategoryRepository } from './category.repository.js';

export interface AdminCategoryRoutesOptions {
  categories: CategoryRepository;
}

/** A slug from a name: "Call of Duty: Warzone" → "call-of-duty-warzone". */
export function slugOf(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/'/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
}

/**
 * Admins add, rename and retire categories. Retiring hides a category from
 * the directory, search and the channel settings' picker; channels already in
 * it keep it (their page still shows it) until their owner picks another, so
 * nobody's channel changes under them. Every change is audited.
 */
export const adminCategoryRoutes: FastifyPluginAsyncTypebox<AdminCategoryRoutesOptions> = async (
  app,
  { categories },
) => {
  const params = Type.Object({ slug: CategorySlug });

  app.get(
    '/admin/v1/categories',
    { schema: { response: { 200: AdminCategoryList } } },
    async (request) => {
      requireRole(request, 'admin');
      return { items: await categories.list() };
    },
  );

  app.post(
    '/admin/v1/categories',
    { schema: { body: CreateCategoryRequest, response: { 201: AdminCategory } } },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const name = request.body.name.trim();
      const slug = request.body.slug ?? slugOf(name);
      if (slug === '')
        throw new AppError('VALIDATION_FAILED', 'body.slug: the name makes no slug; give one.', {
          errors: [{ field: 'body.slug', message: 'is required for this name' }],
        });
      const added = (await categories.taken(slug, name))
        ? null
        : await categories.add(slug, name, admin.id);
      if (!added)
        throw new AppError('CHANNELS_CATEGORY_EXISTS', `A category ${slug} or ${name} exists.`);
      return reply.code(201).send(added);
    },
  );

  const update = async (slug: string, changes: UpdateCategoryRequest, actorId: string) => {
    if (changes.name !== undefined && (await categories.taken(null, changes.name.trim(), slug)))
      throw new AppError('CHANNELS_CATEGORY_EXISTS', `A category named ${changes.name} exists.`);
    const updated = await categories.update(
      slug,
      { ...changes, ...(changes.name !== undefined ? { name: changes.name.trim() } : {}) },
      actorId,
    );
    if (!updated) throw new AppError('CHANNELS_CATEGORY_NOT_FOUND', `No category ${slug}.`);
    return updated;
  };

  app.patch(
    '/admin/v1/categories/:slug',
    { schema: { params, body: UpdateCategoryRequest, response: { 200: AdminCategory } } },
    async (request) => {
      const admin = requireRole(request, 'admin');
      return update(request.params.slug, request.body, admin.id);
    },
  );

  /** Retires: categories are never deleted, so an old channel or video still names its own. */
  app.delete(
    '/admin/v1/categories/:slug',
    { schema: { params, response: { 200: AdminCategory } } },
    async (request) => {
      const admin = requireRole(request, 'admin');
      return update(request.params.slug, { retired: true }, admin.id);
    },
  );
};
