import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import Value from 'typebox/value';

interface AjvLikeError {
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

function ajvLike(
  errors: readonly { keyword: string; instancePath: string; params: object; message: string }[],
): AjvLikeError[] {
  const out: AjvLikeError[] = [];
  for (const e of errors) {
    const params = e.params as { requiredProperties?: string[]; additionalProperties?: string[] };
    if (e.keyword === 'boolean') continue;
    if (e.keyword === 'required' && params.requiredProperties) {
      for (const p of params.requiredProperties) {
        out.push({
          instancePath: e.instancePath,
          params: { missingProperty: p },
          message: 'is required',
        });
      }
    } else if (e.keyword === 'additionalProperties' && params.additionalProperties) {
      for (const p of params.additionalProperties) {
        out.push({
          instancePath: e.instancePath,
          params: { additionalProperty: p },
          message: 'is not allowed',
        });
      }
    } else out.push({ instancePath: e.instancePath, params: {}, message: e.message });
  }
  return out;
}

function requiresNothing(schema: TSchema): boolean {
  const s = schema as { type?: string; required?: string[] };
  return s.type === 'object' && (s.required?.length ?? 0) === 0;
}

/**
 * Validation for every service's routes (createServer installs it), the same
 * everywhere. JSON bodies are checked as sent, with
 * no type coercion (a number where a string belongs is an error, not a
 * string), and an absent body counts as `{}` when nothing in it is required.
 * Query strings and path parameters, which are text by nature, are converted
 * to their declared types and given their defaults first.
 */
export const strictValidation: FastifySchemaCompiler<FastifySchema> = ({ schema, httpPart }) => {
  const type = schema as TSchema;
  const validator = Compile(type);
  return (data: unknown) => {
    let value = data;
    if (httpPart === 'body') {
      if ((value === null || value === undefined) && requiresNothing(type)) value = {};
    } else {
      value = Value.Default(type, Value.Convert(type, value));
    }
    if (validator.Check(value)) return { value };
    return { error: ajvLike(validator.Errors(value)) as never };
  };
};
