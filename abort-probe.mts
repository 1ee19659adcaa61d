import express from 'express'
import net from 'node:net'
const app = express()
app.use((req, res, next) => {
  const t0 = Date.now()
  const log = (e: string) => console.log(e, 'finished', res.writableFinished, 'status', res.statusCode, 'readableAborted', req.readableAborted, 'complete', req.complete, 'destroyed', req.destroyed)
  req.once('aborted', () => log('req aborted'))
  req.once('close', () => log('req close'))
  res.once('finish', () => log('res finish'))
  res.once('close', () => log('res close'))
  next()
})
app.use(express.json())
app.post('/x', (req, res) => void res.json({ ok: 1 }))
app.use((err: any, req: any, res: any, next: any) => { console.log('errhandler', err.type, err.status); res.status(err.status ?? 500).json({}) })
const server = app.listen(0, async () => {
  const port = (server.address() as any).port
  const s = net.connect(port, '127.0.0.1', () => {
    s.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":')
    setTimeout(() => s.destroy(), 50)
  })
  setTimeout(() => { console.log('--- normal unread body 401'); 
    const s2 = net.connect(port, '127.0.0.1', () => { s2.write('POST /y HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n'); s2.on('data', d => {console.log('got', String(d).split('\r\n')[0]); s2.destroy()}) })
  }, 300)
  setTimeout(() => server.close(), 800)
})
