/**
 * STEP (ISO 10303-21, AP214 "automotive_design") for CAD tools: the mesh as a faceted boundary
 * representation, one planar FACE_SURFACE bounded by a POLY_LOOP per triangle. A closed mesh is a
 * FACETED_BREP over a CLOSED_SHELL (a solid); an open one an OPEN_SHELL in a
 * SHELL_BASED_SURFACE_MODEL. Z up on z = 0, in the chosen unit, with the product structure
 * (PRODUCT, PRODUCT_DEFINITION, SHAPE_DEFINITION_REPRESENTATION) CAD tools need to list a part.
 */
import { AppError } from '../lib/errors';
import type { Unit } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import { checkExportable } from './check';
import { faceNormal, zUpOnBed } from './frame';
import { asciiName, MESH_EXPORT_DEFAULTS, STEP_SAFE_FACES, type MeshExportOptions } from './options';
import { TextWriter } from './text-writer';
import type { ExportedFile } from './types';
import { isClosed, weldByPosition } from './weld';

/** The length unit entities, ending with the unit's own id in `#${id}`. */
const UNIT_ENTITIES: Record<Unit, string[]> = {
  mm: ['(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.))'],
  cm: ['(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.CENTI.,.METRE.))'],
  m: ['(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT($,.METRE.))'],
  // An inch is a conversion-based unit: 25.4 mm.
  in: [
    '(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.))',
    'LENGTH_MEASURE_WITH_UNIT(LENGTH_MEASURE(25.4),#{-1})',
    'DIMENSIONAL_EXPONENTS(1.,0.,0.,0.,0.,0.,0.)',
    "(CONVERSION_BASED_UNIT('INCH',#{-2})LENGTH_UNIT()NAMED_UNIT(#{-1}))",
  ],
};

/**
 * Writes `mesh` (in `options.unit`) as a STEP file. Refuses (AppError 'export-too-large') above
 * `options.stepMaxFaces` (default 20,000); a limit raised past 20,000 writes with a warning.
 */
export function exportStep(
  mesh: ResultMesh,
  options: Pick<MeshExportOptions, 'unit' | 'name' | 'closed'> & Partial<MeshExportOptions>,
): ExportedFile {
  checkExportable(mesh, 'step');
  const maxFaces = options.stepMaxFaces ?? MESH_EXPORT_DEFAULTS.stepMaxFaces;
  const triangleCount = mesh.indices.length / 3;
  if (triangleCount > maxFaces) {
    throw new AppError(
      'export-too-large',
      `STEP takes at most ${maxFaces.toLocaleString('en')} faces and this model has ${triangleCount.toLocaleString('en')}: set the target triangles to ${maxFaces.toLocaleString('en')} or fewer and export again.`,
    );
  }
  const warnings: string[] = [];
  if (triangleCount > STEP_SAFE_FACES) {
    warnings.push(
      `This STEP file has ${triangleCount.toLocaleString('en')} faces; CAD tools may take minutes to open it or fail above ${STEP_SAFE_FACES.toLocaleString('en')}.`,
    );
  }
  const welded = weldByPosition(zUpOnBed(mesh.positions), mesh.indices);
  const closed = options.closed ?? isClosed(welded);
  if (!closed) {
    warnings.push('The mesh is open, so the STEP file holds a surface model, not a solid; use "Make printable" for a solid.');
  }

  const name = step(asciiName(options.name));
  const out = new TextWriter();
  const timestamp = new Date().toISOString().slice(0, 19);
  out.line('ISO-10303-21;');
  out.line('HEADER;');
  out.line("FILE_DESCRIPTION(('CADLift mesh as a faceted B-rep'),'2;1');");
  out.line(`FILE_NAME('${name}.step','${timestamp}',(''),(''),'CADLift','CADLift','');`);
  out.line("FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));");
  out.line('ENDSEC;');
  out.line('DATA;');
  let next = 1;
  // `#{-n}` in an entity refers to the entity written n before it.
  const add = (entity: string): number => {
    const id = next++;
    out.line(`#${id}=${entity.replace(/#\{(-\d+)\}/g, (_, d: string) => `#${id + Number(d)}`)};`);
    return id;
  };

  const appContext = add("APPLICATION_CONTEXT('core data for automotive mechanical design processes')");
  add(`APPLICATION_PROTOCOL_DEFINITION('international standard','automotive_design',2000,#${appContext})`);
  const productContext = add(`PRODUCT_CONTEXT('',#${appContext},'mechanical')`);
  const product = add(`PRODUCT('${name}','${name}','',(#${productContext}))`);
  add(`PRODUCT_RELATED_PRODUCT_CATEGORY('part',$,(#${product}))`);
  const formation = add(`PRODUCT_DEFINITION_FORMATION('','',#${product})`);
  const definitionContext = add(`PRODUCT_DEFINITION_CONTEXT('part definition',#${appContext},'design')`);
  const definition = add(`PRODUCT_DEFINITION('design','',#${formation},#${definitionContext})`);
  const definitionShape = add(`PRODUCT_DEFINITION_SHAPE('','',#${definition})`);

  let lengthUnit = 0;
  for (const entity of UNIT_ENTITIES[options.unit]) lengthUnit = add(entity);
  const angleUnit = add('(NAMED_UNIT(*)PLANE_ANGLE_UNIT()SI_UNIT($,.RADIAN.))');
  const solidAngleUnit = add('(NAMED_UNIT(*)SI_UNIT($,.STERADIAN.)SOLID_ANGLE_UNIT())');
  const uncertainty = add(
    `UNCERTAINTY_MEASURE_WITH_UNIT(LENGTH_MEASURE(1.E-06),#${lengthUnit},'distance_accuracy_value','confusion accuracy')`,
  );
  const context = add(
    `(GEOMETRIC_REPRESENTATION_CONTEXT(3)GLOBAL_UNCERTAINTY_ASSIGNED_CONTEXT((#${uncertainty}))GLOBAL_UNIT_ASSIGNED_CONTEXT((#${lengthUnit},#${angleUnit},#${solidAngleUnit}))REPRESENTATION_CONTEXT('Context #1','3D Context with UNIT and UNCERTAINTY'))`,
  );

  const origin = add("CARTESIAN_POINT('',(0.,0.,0.))");
  const zAxis = add("DIRECTION('',(0.,0.,1.))");
  const xAxis = add("DIRECTION('',(1.,0.,0.))");
  const placement = add(`AXIS2_PLACEMENT_3D('',#${origin},#${zAxis},#${xAxis})`);

  const p = welded.positions;
  const pointIds = new Uint32Array(p.length / 3);
  for (let v = 0; v < pointIds.length; v++) {
    pointIds[v] = add(`CARTESIAN_POINT('',(${real(p[v * 3]!)},${real(p[v * 3 + 1]!)},${real(p[v * 3 + 2]!)}))`);
  }
  const faces: number[] = [];
  let flat = 0;
  const ix = welded.indices;
  for (let t = 0; t < ix.length; t += 3) {
    const [a, b, c] = [ix[t]!, ix[t + 1]!, ix[t + 2]!];
    const normal = faceNormal(p, a, b, c);
    if (normal[0] === 0 && normal[1] === 0 && normal[2] === 0) {
      flat++;
      continue;
    }
    // The plane's x axis: the first edge, which is perpendicular to the normal.
    const edge = [p[b * 3]! - p[a * 3]!, p[b * 3 + 1]! - p[a * 3 + 1]!, p[b * 3 + 2]! - p[a * 3 + 2]!];
    const length = Math.hypot(edge[0]!, edge[1]!, edge[2]!);
    const loop = add(`POLY_LOOP('',(#${pointIds[a]},#${pointIds[b]},#${pointIds[c]}))`);
    const bound = add(`FACE_OUTER_BOUND('',#${loop},.T.)`);
    const n = add(`DIRECTION('',(${normal.map(real).join(',')}))`);
    const x = add(`DIRECTION('',(${edge.map((e) => real(e / length)).join(',')}))`);
    const axes = add(`AXIS2_PLACEMENT_3D('',#${pointIds[a]},#${n},#${x})`);
    const plane = add(`PLANE('',#${axes})`);
    faces.push(add(`FACE_SURFACE('',(#${bound}),#${plane},.T.)`));
  }
  if (faces.length === 0) throw new Error('exportStep: every triangle is degenerate.');
  if (welded.collapsed + flat > 0) {
    warnings.push(`Left out ${(welded.collapsed + flat).toLocaleString('en')} triangles with no area.`);
  }

  const faceList = refList(faces);
  let representation: number;
  if (closed) {
    const shell = add(`CLOSED_SHELL('',${faceList})`);
    const brep = add(`FACETED_BREP('${name}',#${shell})`);
    representation = add(`FACETED_BREP_SHAPE_REPRESENTATION('${name}',(#${brep},#${placement}),#${context})`);
  } else {
    const shell = add(`OPEN_SHELL('',${faceList})`);
    const model = add(`SHELL_BASED_SURFACE_MODEL('${name}',(#${shell}))`);
    // A plain SHAPE_REPRESENTATION: MANIFOLD_SURFACE_SHAPE_REPRESENTATION's rules allow only
    // EDGE_LOOP and VERTEX_LOOP bounds, not the POLY_LOOPs of a faceted surface.
    representation = add(`SHAPE_REPRESENTATION('${name}',(#${model},#${placement}),#${context})`);
  }
  add(`SHAPE_DEFINITION_REPRESENTATION(#${definitionShape},#${representation})`);

  out.line('ENDSEC;');
  out.line('END-ISO-10303-21;');
  return { bytes: out.bytes(), mime: 'model/step', extension: 'step', warnings };
}

/**
 * A STEP REAL: always with a decimal point ("1." not "1"), an upper-case exponent, and 9
 * significant digits, more than a float32 coordinate holds.
 */
export function real(value: number): string {
  const text = String(Number(value.toPrecision(9)) + 0);
  const [mantissa, exponent] = text.toUpperCase().split('E') as [string, string | undefined];
  const withPoint = mantissa.includes('.') ? mantissa : `${mantissa}.`;
  return exponent === undefined ? withPoint : `${withPoint}E${exponent}`;
}

/** A list of entity references, a few per line so no line grows to megabytes. */
function refList(ids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; i += 16) {
    parts.push(ids.slice(i, i + 16).map((id) => `#${id}`).join(','));
  }
  return `(${parts.join(',\n')})`;
}

/** Escapes a STEP string: a quote is doubled, a backslash too (ISO 10303-21 §6.4.3.2). */
function step(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "''");
}
