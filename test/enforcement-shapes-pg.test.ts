// The shapes of enforcement-shapes.test.ts on PostgreSQL (its own file: its own worker).
import { shapesSuite } from './helpers/shapes-suite.ts'

shapesSuite(['postgresql'])
